/**
 * `--scale-up-wait`: between minServers and maxServers the pool grows by one child
 * when a request has waited that long, no sooner than `--scale-up-cooldown` after the
 * last growth, and never past maxServers.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { groupGone, tempDir, text } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { logged, serve, statusUntil } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

describe('nsz serve --scale-up-wait', () => {
  it('grows the pool one child at a time while requests wait, a cool-down apart, up to maxServers', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend } = await serve(['--min-servers', '1', '--max-servers', '3', '--min-spare-servers', '0', '--scale-up-wait', '0.2', '--scale-up-cooldown', '0.5',
      '--log-level', '2', '--pid-file', pidFile, fixture('cli-app.js')])
    await proc.line(/^ready workers=1$/)

    // One worker of one slot, four long jobs: three wait, the pool grows twice and stops at three children.
    const client = new NszClient(frontend)
    const replies = Promise.all(Array.from({ length: 4 }, () => client.call('default', 'sleep 2500')))
    const grown = await statusUntil(pidFile, (s) => s.children.length === 3 && s.children.every((c) => c.state !== 'starting'), 'three children')
    expect(grown.limits).toEqual({ minServers: 1, maxServers: 3 })
    // The growths are at least a cool-down apart: the third child is 0.5 s younger than the second, or more.
    const ages = grown.children.map((c) => c.age).sort((a, b) => b - a)
    expect(ages[1]! - ages[2]!).toBeGreaterThanOrEqual(0.45)

    expect((await replies).map((r) => [r.status, text(r.body)])).toEqual(Array.from({ length: 4 }, () => [200, ['slept']]))
    const done = await statusUntil(pidFile, (s) => s.served === 4, 'four jobs served')
    expect(done).toMatchObject({ childSpawns: 3, childExits: 0, queued: 0 })
    expect(logged(proc, /scaleUpWait 200 ms\): one more child$/)).toHaveLength(2)

    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
  })
})
