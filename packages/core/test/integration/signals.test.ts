import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { skipRootOnly, tempDir } from '@net-server/test-support'
import { request } from '../support/line-server.js'
import { startFixture } from '../support/fixture.js'

const notRoot = skipRootOnly('the privilege drop tests')

describe('signals on a real server process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the server cleanly and removes the pid file', async (signal) => {
    const pidFile = join(tempDir(), 'server.pid')
    const fixture = startFixture(['--pid-file', pidFile, '--log-level=0'])
    const listening = await fixture.take('listening')
    expect(listening.pid).toBe(fixture.pid)
    expect(readFileSync(pidFile, 'utf8')).toBe(`${fixture.pid}\n`)
    const endpoint = (listening.endpoints as string[])[0]!
    expect(await request(endpoint, 'ping')).toBe('echo: ping\n')
    fixture.signal(signal)
    expect(await fixture.closed).toEqual({ code: 0, signal: null })
    expect(fixture.events.map((e) => e.event)).toEqual(['listening', 'close', 'done'])
    expect(existsSync(pidFile)).toBe(false)
  })

  it('runs signal actions one at a time, in arrival order', async () => {
    const fixture = startFixture(['--log-level=0'])
    await fixture.take('listening')
    fixture.signal('SIGUSR2')
    await fixture.take('usr2-start')
    fixture.signal('SIGUSR2')
    await fixture.take('usr2-received') // the first
    await fixture.take('usr2-received') // the second: queued while the first action runs
    fixture.signal('SIGTERM') // queued behind the second
    fixture.write('go\n')
    await fixture.take('usr2-end')
    await fixture.take('usr2-start')
    fixture.write('go\n')
    expect(await fixture.closed).toEqual({ code: 0, signal: null })
    expect(fixture.events.map((e) => e.n === undefined ? e.event : `${e.event} ${String(e.n)}`)).toEqual([
      'listening', 'usr2-received 1', 'usr2-start 1', 'usr2-received 2', 'usr2-end 1', 'usr2-start 2', 'usr2-end 2', 'close', 'done'
    ])
  })

  it.skipIf(notRoot)('drops to options.user and that user\'s group after bind (as root)', async () => {
    const fixture = startFixture(['--user', 'nobody', '--log-level=0'])
    const listening = await fixture.take('listening')
    const { execFileSync } = await import('node:child_process')
    const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':')
    expect([listening.uid, listening.gid]).toEqual([Number(uid), Number(gid)])
    fixture.signal('SIGTERM')
    expect(await fixture.closed).toEqual({ code: 0, signal: null })
  })
})
