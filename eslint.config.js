import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'reports/**', '.stryker-tmp/**'] }),
  // The dashboard's page runs in a browser.
  {
    files: ['packages/zmq-personality/dashboard/**/*.js'],
    languageOptions: { globals: { document: 'readonly', window: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', EventSource: 'readonly', ResizeObserver: 'readonly', Node: 'readonly' } }
  }
]
