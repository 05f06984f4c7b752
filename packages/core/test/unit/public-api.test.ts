import { describe, expect, it } from 'vitest'
import * as api from '@net-server/core'
import { describePublicApi, documentedNames, exportedNames } from '@net-server/test-support'

describePublicApi('@net-server/core', {
  index: new URL('../../src/index.ts', import.meta.url),
  doc: new URL('../../../../docs/core.md', import.meta.url),
  runtime: api
})

describe('the public API checker', () => {
  it('reads export lists, renames and inline types', () => {
    const source = [
      '// the names',
      "export { A, b as B, type C } from './a.js'",
      "export type {\n  D, E as F\n} from './d.js'"
    ].join('\n')
    expect(exportedNames(source)).toEqual({ values: ['A', 'B'], types: ['C', 'D', 'F'] })
  })

  it.each([
    ["export * from './a.js'", /export \*/],
    ["export * as a from './a.js'", /export \*/],
    ['export const a = 1', /only export lists/],
    ["import { a } from './a.js'\nexport { a }", /only export lists/]
  ])('refuses %j', (source, message) => {
    expect(() => exportedNames(source)).toThrow(message)
  })

  it('reads the names at the start of the lines of the "Public API" section, by heading', () => {
    const doc = [
      '# pkg', '- `Before`: not in the section',
      '## Public API', '### Classes', '- `A`: a class, see [A](#a)', '### Types', '- `B`, `C`: two types; `D` is not listed',
      '## Next', '- `E`: not in the section'
    ].join('\n')
    expect(documentedNames(doc)).toEqual([{ name: 'A', kind: 'Classes' }, { name: 'B', kind: 'Types' }, { name: 'C', kind: 'Types' }])
  })

  it.each([
    ['# pkg\n- `A`: no section', /no "## Public API" section/],
    ['## Public API\n### Classes\n- A: no backticks', /names in backticks/],
    ['## Public API\n### Classes\n- `A` without a colon', /names in backticks/],
    ['## Public API\n- `A`: no heading', /before the first kind heading/],
    ['## Public API\n### Helpers\n- `A`: not a kind', /headings are/]
  ])('refuses %j', (doc, message) => {
    expect(() => documentedNames(doc)).toThrow(message)
  })
})
