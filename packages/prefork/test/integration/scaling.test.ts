import { describe, expect, it } from 'vitest'
import { gate } from '@net-server/test-support'
import { startPool } from '../support/pool.js'

describe('spare-server scaling', () => {
  it('grows to keep minSpareServers idle while children are busy, and shrinks to maxSpareServers once they are idle', async () => {
    const pool = await startPool(['--min-servers', '1', '--min-spare-servers', '1', '--max-spare-servers', '1', '--max-servers', '4'])
    const [first] = await pool.settled(1)
    // Both jobs are held until the spares have come, however long that takes.
    const held = gate()
    let from = pool.events.length
    const slow1 = pool.request(`hold ${held.path}`)
    await pool.event((e) => e.event === 'childState' && e.pid === first && e.state === 'processing', 'the first child busy', from)
    await pool.until(() => pool.ready().length === 2, 'a spare child')
    const second = pool.ready().find((pid) => pid !== first)!
    from = pool.events.length
    const slow2 = pool.request(`hold ${held.path}`)
    await pool.event((e) => e.event === 'childState' && e.pid === second && e.state === 'processing', 'the second child busy', from)
    await pool.until(() => pool.ready().length === 3, 'another spare child')
    expect((await pool.status()).children!.filter((c) => c.state === 'processing')).toHaveLength(2)

    held.open()
    expect(await slow1).toBe(`released ${first}`)
    expect(await slow2).toBe(`released ${second}`)
    await pool.settled(1)
    expect(pool.seen.size).toBe(3)
  })

  it('never runs more than maxServers children', async () => {
    const pool = await startPool(['--min-servers', '1', '--min-spare-servers', '1', '--max-spare-servers', '1', '--max-servers', '1'])
    const [only] = await pool.settled(1)
    const held = gate()
    const from = pool.events.length
    const slow = pool.request(`hold ${held.path}`)
    await pool.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy child', from)
    // The parent has taken the busy state in (it answers status after it): it started
    // no second child, and the ping waits for the only one.
    expect((await pool.status()).children!.map((c) => c.pid)).toEqual([only])
    const ping = pool.request('ping')
    held.open()
    expect(await slow).toBe(`released ${only}`)
    expect(await ping).toBe(`pong ${only}`)
    expect(pool.seen.size).toBe(1)
  })
})
