/**
 * A pool started as root with `--user` (and `--group`): the parent drops privileges
 * once it has bound, and every child, spawned after the drop, runs as that user and
 * group from its first instruction, the children of a rolling restart too. Root only:
 * `NSZ_REQUIRE_ROOT=1` (CI) makes a skip a failure.
 */
import { describe, expect, it } from 'vitest'
import { expectRunsAs, letUserReachCheckout, otherGroup, unprivilegedUser } from '@net-server/test-support'
import { startPool, type Pool } from '../support/pool.js'

const user = unprivilegedUser()
if (user !== undefined && process.getuid?.() === 0) letUserReachCheckout(user)

/** Every ready child answers a ping: the pool serves as that user. */
async function expectServed (pool: Pool, children: readonly number[]): Promise<void> {
  const replies = await Promise.all(children.map(async () => await pool.request('ping')))
  for (const reply of replies) expect(children).toContain(Number(/^pong (\d+)$/.exec(reply)?.[1]))
}

describe.skipIf(user === undefined)('a pool started as root with --user', () => {
  const { name, uid, gid: ownGid } = user ?? { name: '', uid: -1, gid: -1 }

  it.each([
    ['--user: the user\'s own group', false],
    ['--user and --group: the group given', true]
  ])('runs the parent and every child as the user, %s, children of a HUP too', async (_, withGroup) => {
    const group = withGroup ? otherGroup(user!) : undefined
    const gid = group?.gid ?? ownGid
    const pool = await startPool(['--min-servers', '2', '--user', name, ...(group === undefined ? [] : ['--group', group.name])])
    const first = await pool.settled(2)
    for (const pid of [pool.pid, ...first]) expectRunsAs(pid, uid, gid)
    await expectServed(pool, first)

    pool.signal('SIGHUP')
    await pool.until(() => first.every((pid) => !pool.live.has(pid)) && pool.ready().length === 2 && pool.live.size === 2, 'both children replaced')
    const renewed = pool.ready()
    for (const pid of renewed) expectRunsAs(pid, uid, gid)
    await expectServed(pool, renewed)

    pool.signal('SIGTERM')
    expect(await pool.exit).toEqual({ code: 0, signal: null })
    expect(pool.stderr).toBe('')
  })
})
