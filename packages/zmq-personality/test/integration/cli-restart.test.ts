/**
 * `nsz serve` stopped with TERM and started again on the same address, with load
 * running through the package's Client, on loopback (the same fault between hosts is in
 * hosts-faults.test.ts, where network namespaces can be made): every request gets one
 * reply, the right one or 503, none lost, none twice. After a SIGKILL the Client's
 * resends still give each request one reply.
 */
import { describe, expect, it } from 'vitest'
import { TSX, TestProcess, groupGone } from '@net-server/test-support'
import { nsz, serve } from '../support/cli.js'
import { fixture } from '../support/fixture.js'
import { expectAnswered, okCount, okSoFar, summary, type LoadSummary } from '../support/hosts.js'

const POOL = ['--min-servers', '2', '--min-spare-servers', '0', '--concurrency', '2', '--log-level', '1', fixture('cli-app.js')]

/** A broker with two children under the load of a Client, then the broker that replaces it on the same address once `stop` has ended the first. */
async function restarted (stop: (broker: TestProcess) => Promise<void>): Promise<LoadSummary> {
  const first = await serve(POOL)
  await first.proc.line(/^ready workers=2$/)
  const client = new TestProcess(process.execPath, [...TSX, fixture('load-client.ts'), first.frontend, '8', '30000', 'client'], { group: true, json: true, stdin: true })
  await okCount(client, 100)
  await stop(first.proc)
  const second = nsz(['serve', '--frontend', first.frontend, '--backend', first.backend, ...POOL])
  await second.line(/^ready workers=2$/)
  await okCount(client, okSoFar(client) + 200)
  return await summary(client)
}

describe('nsz serve restarted on the same address under load', () => {
  it('gives every request of a Client one reply: the resends of what was on the wire go to the new broker', { timeout: 60_000 }, async () => {
    const load = await restarted(async (broker) => { expect((await broker.stop('SIGTERM')).code).toBe(0) })
    // The jobs the first broker gave up, and the requests it read while it closed, got 503.
    expectAnswered(load, ['503'], load.sent)
    expect(load).toMatchObject({ connectionsLost: 1 })
    // Resent when the connection dropped, not after the client's 30 s timeout.
    expect(load.maxLatency).toBeLessThan(10_000)
    expect(load.ok).toBeGreaterThanOrEqual(300)
  })

  it('after a SIGKILL too: what the dead broker held is resent, and each request still settles once', { timeout: 60_000 }, async () => {
    const load = await restarted(async (broker) => {
      broker.proc.kill('SIGKILL')
      await broker.exited()
      // Its children leave by themselves once their parent has gone.
      await groupGone(broker.pid)
    })
    // Nothing answered 503 for the jobs it held: each was resent, and may have run twice.
    expectAnswered(load, [], 0)
    expect(load).toMatchObject({ connectionsLost: 1 })
    expect(load.retried).toBeGreaterThan(0)
    expect(load.maxLatency).toBeLessThan(10_000)
  })
})
