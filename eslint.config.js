import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'reports/**', '.stryker-tmp/**'] }),
  // A source file that grows past this is split by responsibility (docs/architecture.md).
  {
    files: ['packages/*/src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }] }
  },
  // The dashboard's page runs in a browser.
  {
    files: ['packages/zmq-personality/dashboard/**/*.js'],
    languageOptions: { globals: { document: 'readonly', window: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', EventSource: 'readonly', ResizeObserver: 'readonly', Node: 'readonly' } }
  }
]
