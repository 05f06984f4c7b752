import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { request } from '../helpers/line-server.js'
import { startFixture, tempDir } from '../helpers/processes.js'

describe('signals on a real server process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the server cleanly and removes the pid file', async (signal) => {
    const pidFile = join(tempDir(), 'server.pid')
    const fixture = startFixture(['--pid-file', pidFile, '--log-level=0'])
    const listening = await fixture.waitFor('listening')
    expect(listening.pid).toBe(fixture.child.pid)
    expect(readFileSync(pidFile, 'utf8')).toBe(`${fixture.child.pid}\n`)
    const endpoint = (listening.endpoints as string[])[0]!
    expect(await request(endpoint, 'ping')).toBe('echo: ping\n')
    fixture.child.kill(signal)
    expect(await fixture.exited).toEqual([0, null])
    expect(fixture.events.map((e) => e.event)).toEqual(['listening', 'close', 'done'])
    expect(existsSync(pidFile)).toBe(false)
  })

  it('runs signal actions one at a time, in arrival order', async () => {
    const fixture = startFixture(['--log-level=0'])
    await fixture.waitFor('listening')
    fixture.child.kill('SIGUSR2')
    await fixture.waitFor('usr2-start')
    fixture.child.kill('SIGUSR2')
    await fixture.waitFor('usr2-received') // the first
    await fixture.waitFor('usr2-received') // the second: queued while the first action runs
    fixture.child.kill('SIGTERM') // queued behind the second
    fixture.child.stdin!.write('go\n')
    await fixture.waitFor('usr2-end')
    await fixture.waitFor('usr2-start')
    fixture.child.stdin!.write('go\n')
    expect(await fixture.exited).toEqual([0, null])
    expect(fixture.events.map((e) => e.n === undefined ? e.event : `${e.event} ${String(e.n)}`)).toEqual([
      'listening', 'usr2-received 1', 'usr2-start 1', 'usr2-received 2', 'usr2-end 1', 'usr2-start 2', 'usr2-end 2', 'close', 'done'
    ])
  })

  it.runIf(process.getuid?.() === 0)('drops to options.user and that user\'s group after bind (as root)', async () => {
    const fixture = startFixture(['--user', 'nobody', '--log-level=0'])
    const listening = await fixture.waitFor('listening')
    const { execFileSync } = await import('node:child_process')
    const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':')
    expect([listening.uid, listening.gid]).toEqual([Number(uid), Number(gid)])
    fixture.child.kill('SIGTERM')
    expect(await fixture.exited).toEqual([0, null])
  })
})
