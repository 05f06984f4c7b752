import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/** The names a package's `src/index.ts` exports, by kind. */
export interface ExportedNames {
  /** Names of `export { … }`: they exist at run time. */
  readonly values: readonly string[]
  /** Names of `export type { … }` and of `type X` inside `export { … }`. */
  readonly types: readonly string[]
}

/** The kinds a "Public API" section groups its lines by, one `###` heading each. */
export const API_KINDS = ['Classes', 'Functions', 'Constants', 'Types'] as const

/** A heading of {@link API_KINDS}. */
export type ApiKind = typeof API_KINDS[number]

/** One name of a "Public API" section and the heading it is listed under. */
export interface DocumentedName {
  readonly name: string
  readonly kind: ApiKind
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/**
 * Reads the export list of an `index.ts`. The file may hold only `export { … } from '…'`
 * and `export type { … } from '…'` statements (and comments): an `export *` or anything
 * else throws, since a name it exports cannot be checked against the docs.
 */
export function exportedNames (source: string): ExportedNames {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  if (/\bexport\s*\*/.test(code)) throw new Error('index.ts must list its exports: `export *` re-exports a module wholesale')
  const statement = /export\s+(type\s+)?\{([^}]*)\}\s*from\s*'[^']+'/g
  const rest = code.replace(statement, '').trim()
  if (rest !== '') throw new Error(`index.ts must hold only export lists, found: ${rest.split('\n')[0]}`)
  const values: string[] = []
  const types: string[] = []
  for (const [, typeOnly, list] of code.matchAll(statement)) {
    for (const item of list!.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const inlineType = /^type\s+/.test(item)
      const parts = item.replace(/^type\s+/, '').split(/\s+as\s+/)
      const name = parts[parts.length - 1]!
      if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) throw new Error(`index.ts: cannot read the export \`${item}\``)
      ;(typeOnly !== undefined || inlineType ? types : values).push(name)
    }
  }
  return { values, types }
}

/**
 * Reads the "Public API" section of a doc: the `## Public API` heading up to the next
 * heading of its level or above. Each `- ` line starts with its names in backticks, then a
 * colon: `` - `Name`: what it is `` or `` - `A`, `B`: … ``; each line sits under a
 * `### Classes`, `### Functions`, `### Constants` or `### Types` heading. A line of
 * another shape, or a missing section, throws.
 */
export function documentedNames (markdown: string): DocumentedName[] {
  const lines = markdown.split('\n')
  const start = lines.findIndex((line) => /^##\s+Public API\s*$/.test(line))
  if (start === -1) throw new Error('the doc has no "## Public API" section')
  const names: DocumentedName[] = []
  let kind: ApiKind | undefined
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,2}\s/.test(line)) break
    const heading = /^###\s+(.*?)\s*$/.exec(line)
    if (heading !== null) {
      kind = API_KINDS.find((k) => k === heading[1])
      if (kind === undefined) throw new Error(`"Public API" headings are ${API_KINDS.join(', ')}; found "${heading[1]}"`)
      continue
    }
    if (!line.startsWith('- ')) continue
    const lead = /^- ((?:`[A-Za-z_$][\w$]*`(?:, )?)+):\s/.exec(line)
    if (lead === null || lead[1]!.endsWith(', ')) throw new Error(`a "Public API" line starts with its names in backticks and a colon: ${line}`)
    if (kind === undefined) throw new Error(`a "Public API" line before the first kind heading: ${line}`)
    for (const [, name] of lead[1]!.matchAll(/`([^`]+)`/g)) names.push({ name: name!, kind })
  }
  return names
}

/** The kind a run-time export belongs under: a class, a function or a constant. */
function runtimeKind (value: unknown): ApiKind {
  if (typeof value !== 'function') return 'Constants'
  return /^class\b/.test(Function.prototype.toString.call(value)) ? 'Classes' : 'Functions'
}

/** What {@link describePublicApi} compares. */
export interface PublicApiCheck {
  /** The package's `src/index.ts`. */
  readonly index: URL
  /** The doc that lists the package's names in its "Public API" section. */
  readonly doc: URL
  /** The package as loaded by its name: `import * as api from '@net-server/…'`. */
  readonly runtime: Record<string, unknown>
}

/**
 * Registers the tests that keep a package's export list and its doc in step: every name
 * that `index.ts` exports has one line in the doc's "Public API" section, under the
 * heading of its kind, and every line there names an export; the package loaded at run
 * time exports exactly the listed values.
 */
export function describePublicApi (pkg: string, check: PublicApiCheck): void {
  describe(`public API of ${pkg}`, () => {
    const exported = exportedNames(readFileSync(check.index, 'utf8'))
    const documented = documentedNames(readFileSync(check.doc, 'utf8'))
    const all = [...exported.values, ...exported.types]

    it('has a doc line for every export, and an export for every doc line', () => {
      const listed = documented.map((d) => d.name)
      expect({
        undocumented: all.filter((n) => !listed.includes(n)).sort(),
        notExported: listed.filter((n) => !all.includes(n)).sort()
      }).toEqual({ undocumented: [], notExported: [] })
      expect(listed.filter((n, i) => listed.indexOf(n) !== i), 'names listed twice').toEqual([])
      expect(all.filter((n, i) => all.indexOf(n) !== i), 'names exported twice').toEqual([])
    })

    it('lists each name under the heading of its kind', () => {
      const misplaced = documented.filter(({ name, kind }) => {
        if (exported.types.includes(name)) return kind !== 'Types'
        return exported.values.includes(name) && kind !== runtimeKind(check.runtime[name])
      })
      expect(misplaced).toEqual([])
    })

    it('exports at run time exactly the listed values', () => {
      expect(Object.keys(check.runtime).sort()).toEqual([...exported.values].sort())
    })
  })
}
