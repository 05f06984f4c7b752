/**
 * Faults across hosts made of network namespaces: a broker without children, two
 * remote pools with their own keys (CURVE on the backend) and a load client, each in
 * its own network stack, with a link cut short
 * and long, a pool's parent killed, the broker restarted. Every request gets one reply,
 * the right one or a typed error, none twice, none lost; a cut shorter than the
 * heartbeat window costs only latency; the pool is whole again within the window; the
 * metrics count what happened. Root only (CI runs them as root).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { groupGone, skipWithoutNetns, type TestProcess } from '@net-server/test-support'
import { sample } from '../support/metrics.js'
import { Deployment, HEARTBEAT, dropped, expectAnswered, okCount, okSoFar, summary, workersByHost } from '../support/hosts.js'

const hosts = (remote: number) => (s: { remoteWorkers: number }) => s.remoteWorkers === remote

describe.skipIf(skipWithoutNetns('the tests across network namespaces'))('faults across hosts', { timeout: 90_000 }, () => {
  let deployment: Deployment | undefined
  afterEach(() => {
    deployment?.close()
    deployment = undefined
  })

  async function running (): Promise<{ d: Deployment, broker: TestProcess, pools: Record<'pool-a' | 'pool-b', TestProcess> }> {
    deployment = await Deployment.create()
    const d = deployment
    const broker = await d.broker()
    const [a, b] = await Promise.all([d.pool('pool-a'), d.pool('pool-b')])
    // Each pool runs on a host of its own name: the broker tells their workers apart.
    expect(workersByHost(await d.statusUntil(hosts(4), 'the four remote workers'))).toEqual({ 'pool-a': 2, 'pool-b': 2 })
    return { d, broker, pools: { 'pool-a': a!, 'pool-b': b! } }
  }

  it('a cut of 3 s, shorter than the heartbeat window, costs no request an error, only latency', async () => {
    const { d } = await running()
    const client = d.client()
    await okCount(client, 100)
    // The cut's length is what the test is about: a fixed time, by design.
    d.lab.cut('pool-a')
    await sleep(3000)
    d.lab.restore('pool-a')
    await okCount(client, okSoFar(client) + 200)
    const load = await summary(client)
    expectAnswered(load, [], 0)
    // The jobs held on the cut host waited for the link: their replies came late.
    expect(load.maxLatency).toBeGreaterThanOrEqual(2500)
    const status = await d.status()
    expect(status.remoteWorkers).toBe(4)
    expect(status.losses.workersDropped).toMatchObject({ expired: 0, timeout: 0, unreachable: 0 })
    const m = await d.metrics()
    expect(sample(m, 'nsz_jobs_total{service="default",status="200"}')).toBe(load.ok)
    expect(sample(m, 'nsz_heartbeat_losses_total')).toBe(0)
    expect(sample(m, 'nsz_workers{state="idle",host="remote"}')).toBe(4)
  })

  it('a cut longer than the heartbeat window: typed errors only for the jobs on the cut host, and the pool is whole again within the window', async () => {
    const { d } = await running()
    const client = d.client()
    await okCount(client, 100)
    d.lab.cut('pool-a')
    // The broker drops the cut host's workers once the heartbeat window has passed.
    const cut = await d.statusUntil(hosts(2), 'the cut host\'s workers dropped', HEARTBEAT.windowMs + 35_000)
    expect(workersByHost(cut)).toEqual({ 'pool-b': 2 })
    const during = okSoFar(client)
    await okCount(client, during + 100)
    d.lab.restore('pool-a')
    await d.whole(Date.now(), 'the cut host\'s workers back')
    await okCount(client, okSoFar(client) + 100)
    // At most the jobs the cut host held (two workers of two slots) failed, each with a typed error.
    const load = await summary(client)
    expectAnswered(load, ['502', '504'], 4)
    const m = await d.metrics()
    // Idle workers expire (heartbeats lost); the connection of busy ones is closed by the
    // ZMTP heartbeats after the same window, and the next send to them fails (unreachable).
    expect(dropped(m, ['expired', 'unreachable', 'timeout'])).toBeGreaterThanOrEqual(2)
    expect(sample(m, 'nsz_jobs_lost_total')).toBe(load.errors['502'] ?? 0)
    expect(sample(m, 'nsz_heartbeat_losses_total')).toBe(sample(m, 'nsz_workers_dropped_total{reason="expired"}'))
    expect(sample(m, 'nsz_jobs_total{service="default",status="200"}')).toBe(load.ok)
    expect(m.get('nsz_jobs_total{service="default",status="504"}') ?? 0).toBe(load.errors['504'] ?? 0)
  })

  it('a remote pool\'s parent killed: its jobs get a typed error or go elsewhere, and a new pool makes it whole within the window', async () => {
    const { d, pools } = await running()
    const client = d.client()
    await okCount(client, 100)
    // SIGKILL to the parent alone: its children see it gone and leave by themselves.
    pools['pool-a'].proc.kill('SIGKILL')
    const killed = Date.now()
    const left = await d.statusUntil(hosts(2), 'the killed pool\'s workers gone', HEARTBEAT.windowMs + 5000)
    expect(workersByHost(left)).toEqual({ 'pool-b': 2 })
    expect(Date.now() - killed).toBeLessThanOrEqual(HEARTBEAT.windowMs + 1000)
    await groupGone(pools['pool-a'].pid)
    await okCount(client, okSoFar(client) + 100)
    const started = Date.now()
    await d.pool('pool-a')
    await d.whole(started, 'the new pool\'s workers')
    await okCount(client, okSoFar(client) + 100)
    const load = await summary(client)
    expectAnswered(load, ['502', '503'], 4)
    const m = await d.metrics()
    expect(dropped(m, ['disconnect', 'expired', 'unreachable'])).toBeGreaterThanOrEqual(2)
    expect(sample(m, 'nsz_jobs_total{service="default",status="200"}')).toBe(load.ok)
    expect(sample(m, 'nsz_workers{state="idle",host="remote"}') + sample(m, 'nsz_workers{state="busy",host="remote"}')).toBe(4)
  })

  it('the broker restarted on the same address: every request gets one reply, the pools and the client come back by themselves within the window', async () => {
    const { d, broker } = await running()
    // The package's Client, as an application uses it: what was on the wire to the
    // first broker as it closed is sent again on the new one.
    const client = d.client(8, 30_000, 'client')
    await okCount(client, 100)
    expect((await broker.stop('SIGTERM')).code).toBe(0)
    const restarted = Date.now()
    await d.broker()
    await d.whole(restarted, 'the pools back on the new broker')
    await okCount(client, okSoFar(client) + 200)
    const load = await summary(client)
    // None lost, none twice, none wrong: the jobs the first broker gave up got 503
    // (at most the eight in flight, and those sent while it closed).
    expectAnswered(load, ['503'], load.sent)
    expect(load.connectionsLost).toBe(1)
    // Resent when the connection dropped, not after the client's 30 s timeout.
    expect(load.maxLatency).toBeLessThan(10_000)
    const m = await d.metrics()
    // The new broker counts its own jobs only.
    expect(sample(m, 'nsz_jobs_total{service="default",status="200"}')).toBeGreaterThanOrEqual(200)
    expect(sample(m, 'nsz_jobs_total{service="default",status="200"}')).toBeLessThan(load.ok)
  })
})
