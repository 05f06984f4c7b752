import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventually, tempDir } from '@net-server/test-support'
import { LOW_OPEN_FILES, logBrokerLosses, openFilesLimit, warnLowOpenFiles } from '../../src/broker-log.js'
import { dealer, startBroker } from '../support/broker.js'

describe('the log of the broker\'s losses', () => {
  it('says the first malformed request at once and the rest of a flood in one summary line', async () => {
    const { broker, frontend } = await startBroker()
    const lines: Array<[number, string]> = []
    const stop = logBrokerLosses(broker, (level, message) => { lines.push([level, message]) }, 60_000)
    const client = dealer(frontend)
    for (let i = 0; i < 200; i++) await client.send(['not an empty delimiter'])
    await eventually(() => broker.stats().losses.refused.malformed === 200, '200 malformed requests counted', 5000)
    expect(lines).toHaveLength(1)
    expect(lines[0]![0]).toBe(3)
    expect(lines[0]![1]).toMatch(/^refused:malformed: missing empty delimiter frame \(peer [0-9a-f]+\)$/)
    stop()
    expect(lines).toHaveLength(2)
    expect(lines[1]![1]).toMatch(/^199 more in the last 60 s \(refused:malformed\), the last: refused:malformed: /)
    expect(broker.stats().errors[400]).toBe(200)
  })
})

describe('the open-files limit', () => {
  it('is read from the process limits, and a low one is warned about', () => {
    const dir = tempDir()
    const limits = join(dir, 'limits')
    writeFileSync(limits, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n')
    expect(openFilesLimit(limits)).toBe(1024)
    expect(openFilesLimit(join(dir, 'none'))).toBeUndefined()
    writeFileSync(limits, 'Max open files            unlimited            unlimited            files\n')
    expect(openFilesLimit(limits)).toBe(Infinity)
    const lines: Array<[number, string]> = []
    warnLowOpenFiles((level, message) => { lines.push([level, message]) }, 1024)
    warnLowOpenFiles((level, message) => { lines.push([level, message]) }, LOW_OPEN_FILES)
    warnLowOpenFiles((level, message) => { lines.push([level, message]) }, undefined)
    expect(lines).toHaveLength(1)
    expect(lines[0]![0]).toBe(1)
    expect(lines[0]![1]).toMatch(/^the open-files limit is 1024 \(ulimit -n\)/)
    // This process's own limit, as a shell it starts inherits it.
    const shell = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    expect(openFilesLimit()).toBe(shell === 'unlimited' ? Infinity : Number(shell))
  })
})
