import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { serverOptionSpecs } from '@net-server/core'
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
