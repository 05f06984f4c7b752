import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { OPTION_GROUPS, serverOptionSpecs, type OptionSpec, type OptionSpecs } from '@net-server/core'
import { preForkOptionSpecs } from '@net-server/prefork'
import { WorkerPool, ZmqServer, brokerOptionSpecs, workerAgentOptionSpecs } from '@net-server/zmq'

/**
 * The option names in the first cell of each row of the options tables of a doc page,
 * by the heading cell of their table (`option`, `` `Broker` option `` …).
 */
function documentedOptions (page: string): Map<string, Set<string>> {
  const doc = readFileSync(fileURLToPath(new URL(`../../../../docs/${page}`, import.meta.url)), 'utf8')
  const tables = new Map<string, Set<string>>()
  let current: Set<string> | undefined
  let header = true
  for (const line of doc.split('\n')) {
    if (!line.startsWith('|')) {
      current = undefined
      continue
    }
    const first = line.split('|')[1]!.trim()
    if (current === undefined) {
      const heading = first.replace(/`/g, '')
      current = tables.get(heading) ?? new Set()
      header = true
      if (/option$/.test(heading)) tables.set(heading, current)
      continue
    }
    if (header && /^-+$/.test(first)) {
      header = false
      continue
    }
    for (const [, name] of first.matchAll(/`(\w+)`/g)) current.add(name!)
  }
  return tables
}

function inTables (pages: readonly string[], heading: string): Set<string> {
  return new Set(pages.flatMap((page) => [...documentedOptions(page).get(heading) ?? []]))
}

/**
 * The `default` cells of the options tables under `heading` of a doc page, by option
 * name, backticks and a closing remark in parentheses left out. A row that names
 * several options gives each its own value when the cell holds as many, comma-separated.
 */
function documentedDefaults (page: string, heading: string): Map<string, string[]> {
  const doc = readFileSync(fileURLToPath(new URL(`../../../../docs/${page}`, import.meta.url)), 'utf8')
  const defaults = new Map<string, string[]>()
  let column: number | undefined
  let inTable = false
  for (const line of doc.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false
      continue
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    if (!inTable) {
      inTable = true
      column = cells[0]!.replace(/`/g, '') === heading ? cells.indexOf('default') : -1
      continue
    }
    if (column === undefined || column < 0 || /^-+$/.test(cells[0]!)) continue
    const names = [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!)
    const cell = cells[column]!.replace(/`/g, '').replace(/\s*\([^)]*\)$/, '').replace(/\s/g, ' ').trim()
    const values = names.length > 1 ? cell.split(/,\s*/) : [cell]
    names.forEach((name, i) => {
      defaults.set(name, [...defaults.get(name) ?? [], values.length === names.length ? values[i]! : cell])
    })
  }
  return defaults
}

/** The ways the docs write a default; `undefined` for a default they describe in words (none, a function). */
function renderings (spec: OptionSpec): string[] | undefined {
  const value = spec.default
  if (typeof value === 'boolean' || typeof value === 'string') return [String(value)]
  if (typeof value === 'number') {
    const grouped = String(value).replace(/\B(?=(\d{3})+$)/g, ' ')
    const forms = [String(value), grouped]
    if (spec.kind === 'duration') forms.push(`${value} ms`, `${grouped} ms`, `${value / 1000} s`)
    if (value > 0 && value % (1024 * 1024) === 0) forms.push(`${value / (1024 * 1024)} MiB`)
    return forms
  }
  if (Array.isArray(value)) return [`[${value.map((v) => typeof v === 'string' ? `'${v}'` : String(v)).join(', ')}]`]
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return ['{}']
  return undefined
}

/**
 * Every option of `specs` that has a value for a default and a `default` cell on the
 * first of `pages` that lists it, with the cell that does not write that value.
 */
function wrongDefaults (specs: OptionSpecs, pages: ReadonlyArray<readonly [string, string]>, except: readonly string[] = []): string[] {
  const tables = pages.map(([page, heading]) => documentedDefaults(page, heading))
  // A table that moved or was renamed must not make the check pass with nothing read.
  const empty = pages.filter((_, i) => tables[i]!.size === 0)
  if (empty.length > 0) throw new Error(`no options table with a default column: ${empty.map(([page, heading]) => `${heading} in ${page}`).join(', ')}`)
  const wrong: string[] = []
  for (const [name, spec] of Object.entries(specs)) {
    const forms = renderings(spec)
    const cells = tables.find((t) => t.has(name))?.get(name)
    if (forms === undefined || cells === undefined || except.includes(name)) continue
    for (const cell of cells) if (!forms.includes(cell)) wrong.push(`${name}: the docs say '${cell}', the spec ${forms.join(' or ')}`)
  }
  return wrong
}

const KINDS = ['integer', 'duration', 'string', 'boolean', 'list', 'custom']

/** What `--help` and the docs need of every option of `specs`, as a list of what is missing. */
function helpProblems (specs: OptionSpecs, flags: boolean): string[] {
  const problems: string[] = []
  for (const [name, spec] of Object.entries(specs)) {
    if (typeof spec.description !== 'string' || spec.description.trim() !== spec.description || spec.description.length === 0) problems.push(`${name}: description`)
    if (spec.kind !== undefined && !KINDS.includes(spec.kind)) problems.push(`${name}: kind '${spec.kind}'`)
    if (spec.placeholder !== undefined && !/^<[^<>]+>$/.test(spec.placeholder)) problems.push(`${name}: placeholder '${spec.placeholder}'`)
    if (spec.scope !== undefined && spec.scope !== 'broker') problems.push(`${name}: scope '${spec.scope}'`)
    const flag = spec.parse !== undefined && spec.flag !== false
    if (spec.group !== undefined ? !(OPTION_GROUPS as readonly string[]).includes(spec.group) : flags && flag) problems.push(`${name}: group '${spec.group}'`)
  }
  return problems
}

describe('every option is fit for --help', () => {
  it('has a description, a known kind, a placeholder in <>, and a --help group when it is a flag', () => {
    const server = new ZmqServer({ argv: false }).describeOptions()
    const pool = new WorkerPool({ argv: false }).describeOptions()
    expect(helpProblems(serverOptionSpecs(), true)).toEqual([])
    expect(helpProblems(preForkOptionSpecs(), true)).toEqual([])
    expect(helpProblems(server, true)).toEqual([])
    expect(helpProblems(pool, true)).toEqual([])
    expect(helpProblems(brokerOptionSpecs, false)).toEqual([])
    expect(helpProblems(workerAgentOptionSpecs, false)).toEqual([])
  })
})

describe('the docs give each option its default', () => {
  it('core\'s options: docs/options.md', () => {
    // argv's default is the process's own command line, which the docs write as code.
    expect(wrongDefaults(serverOptionSpecs(), [['options.md', 'option']], ['argv'])).toEqual([])
  })

  it('the pool\'s options: docs/prefork.md, over docs/options.md', () => {
    expect(wrongDefaults(preForkOptionSpecs(), [['prefork.md', 'option'], ['options.md', 'option']], ['argv'])).toEqual([])
  })

  it('ZmqServer\'s and WorkerPool\'s options: docs/zmq.md, over the pages of the layers below', () => {
    const pages = [['zmq.md', 'option'], ['prefork.md', 'option'], ['options.md', 'option']] as const
    expect(wrongDefaults(new ZmqServer({ argv: false }).describeOptions(), pages, ['argv'])).toEqual([])
    expect(wrongDefaults(new WorkerPool({ argv: false }).describeOptions(), pages, ['argv'])).toEqual([])
  })

  it('the Broker\'s and the WorkerAgent\'s options: their tables in docs/zmq.md', () => {
    expect(wrongDefaults(brokerOptionSpecs, [['zmq.md', 'Broker option']])).toEqual([])
    expect(wrongDefaults(workerAgentOptionSpecs, [['zmq.md', 'WorkerAgent option']])).toEqual([])
  })
})

describe('docs keep a line for every option', () => {
  it('core\'s options: docs/options.md', () => {
    const documented = inTables(['options.md'], 'option')
    for (const name of Object.keys(serverOptionSpecs())) expect(documented, name).toContain(name)
  })

  it('the pool\'s options: docs/prefork.md', () => {
    const documented = inTables(['prefork.md'], 'option')
    const core = serverOptionSpecs()
    for (const name of Object.keys(preForkOptionSpecs()).filter((n) => !Object.hasOwn(core, n))) expect(documented, name).toContain(name)
  })

  it('ZmqServer\'s and WorkerPool\'s options: docs/zmq.md, docs/security.md, or an earlier layer\'s page', () => {
    const documented = inTables(['options.md', 'prefork.md', 'zmq.md', 'security.md'], 'option')
    const specs = { ...new ZmqServer({ argv: false }).describeOptions(), ...new WorkerPool({ argv: false }).describeOptions() }
    for (const name of Object.keys(specs)) expect(documented, name).toContain(name)
  })

  it('the Broker\'s and the WorkerAgent\'s options: their tables in docs/zmq.md', () => {
    const broker = inTables(['zmq.md'], 'Broker option')
    for (const name of Object.keys(brokerOptionSpecs)) expect(broker, name).toContain(name)
    const agent = inTables(['zmq.md'], 'WorkerAgent option')
    for (const name of Object.keys(workerAgentOptionSpecs)) expect(agent, name).toContain(name)
  })
})
