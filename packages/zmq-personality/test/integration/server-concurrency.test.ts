import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Status } from '@net-server/client'
import { gate, statusOf, tempDir, text, type Gate } from '@net-server/test-support'
import { statusUntil } from '../support/cli.js'
import { client, startServer, type ServerEvent, type ServerProcess } from '../support/server.js'

const APP = { kind: 'upper' }

/** The `jobStart` lines of `count` jobs since event `from`. */
function starts (server: ServerProcess, from: number): ServerEvent[] {
  return server.events.slice(from).filter((e) => e.event === 'jobStart')
}

/** Sends `n` `count` jobs held by `held` and waits until `running` of them run. */
async function holdJobs (server: ServerProcess, held: Gate, n: number, running = n): Promise<{ replies: Array<Promise<Buffer[]>>, from: number }> {
  const c = client(server.frontend)
  const from = server.events.length
  const replies = Array.from({ length: n }, () => c.request('', ['count', held.path]))
  await server.until(() => starts(server, from).length === running, `${running} jobs running`)
  return { replies, from }
}

/** `[pid, most jobs at once in that worker]` from a `count` reply. */
function counted (reply: Buffer[]): [number, number] {
  const [pid, peak] = text(reply)[0]!.split(' ').map(Number)
  return [pid!, peak!]
}

describe('concurrency: several jobs per worker', () => {
  it('fills every slot under load and never runs more jobs in a worker than its slots', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const server = await startServer(['--min-servers', '2', '--max-servers', '2', '--concurrency', '4', '--pid-file', pidFile], APP)
    const pids = await server.serving(2)
    const held = gate()
    // 12 jobs for 8 slots: 8 run, 4 wait in the broker's queue until slots free up.
    const { replies, from } = await holdJobs(server, held, 12, 8)
    const first = starts(server, from)
    for (const pid of pids) expect(first.filter((e) => e.pid === pid).map((e) => e.running).sort()).toEqual([1, 2, 3, 4])
    const status = await statusUntil(pidFile, (s) => s.queued === 4, 'the 4 jobs past the slots to wait')
    expect(status).toMatchObject({ inFlight: 8, slots: { total: 8, inUse: 8 } })
    expect(status.children.map((c) => [c.running, c.slots])).toEqual([[4, 4], [4, 4]])
    held.open()
    const answers = (await Promise.all(replies)).map(counted)
    // A job's jobStart line comes over its worker's stdout, which may trail its reply.
    await server.until(() => starts(server, from).length === 12, 'the 12 jobStart lines')
    expect(Math.max(...starts(server, from).map((e) => e.running!))).toBe(4)
    expect(answers.map(([, peak]) => peak)).toEqual(Array(12).fill(4))
    expect(new Set(answers.map(([pid]) => pid))).toEqual(new Set(pids))
    // Heartbeats kept flowing while the workers held their jobs: none was dropped.
    expect(server.events.slice(from).filter((e) => e.event === 'workerGone' || e.event === 'childExit')).toEqual([])
  })

  it('answers each job of a worker that dies with N jobs in flight exactly once: 502', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--concurrency', '4'], APP)
    const [pid] = await server.serving(1)
    const { replies } = await holdJobs(server, gate(), 4)
    process.kill(pid!, 'SIGKILL')
    const statuses = await Promise.all(replies.map(async (r) => await statusOf(r)))
    expect(statuses).toEqual([502, 502, 502, 502])
    // A new worker takes over; no late answer reaches the client for the lost jobs.
    const [next] = await server.serving(1)
    expect(next).not.toBe(pid)
    const c = client(server.frontend)
    expect(text(await c.request('', 'pid'))).toEqual([String(next)])
  })

  it('with --requeue sends each of those jobs once more, to the new worker, which answers them', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--concurrency', '4', '--requeue'], APP)
    const [pid] = await server.serving(1)
    const held = gate()
    const { replies, from } = await holdJobs(server, held, 4)
    process.kill(pid!, 'SIGKILL')
    await server.event((e) => e.event === 'childExit' && e.pid === pid, 'the worker to die', from)
    const [next] = await server.serving(1)
    // Each job runs again on the new worker: 4 more starts there.
    await server.until(() => starts(server, from).filter((e) => e.pid === next).length === 4, 'the 4 jobs to run again')
    held.open()
    const answers = (await Promise.all(replies)).map(counted)
    expect(answers.map(([p]) => p)).toEqual([next, next, next, next])
    await server.until(() => starts(server, from).length === 8, 'the 8 jobStart lines')
    expect(starts(server, from).filter((e) => e.pid !== next)).toHaveLength(4)
  })

  it('times one job out with others in flight: 504 for it, the others finish on the same worker, then it is replaced', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--concurrency', '4', '--job-timeout', '3'], APP)
    const [pid] = await server.serving(1)
    const c = client(server.frontend)
    const stuck = gate()
    const from = server.events.length
    const late = c.request('', ['count', stuck.path])
    await server.until(() => starts(server, from).length === 1, 'the job that will time out to start')
    // The other jobs start well after it, so that they are far from their own deadline
    // when it passes: the pause only widens that margin.
    await delay(1500)
    const held = gate()
    const others = [1, 2, 3].map(() => c.request('', ['count', held.path]))
    await server.until(() => starts(server, from).length === 4, 'the other jobs to start')
    expect(await statusOf(late)).toBe(Status.TIMEOUT)
    // The worker takes no new job while it finishes the others: this one waits.
    const after = statusOf(c.request('', 'pid'))
    expect(server.live.has(pid!)).toBe(true)
    held.open()
    const answers = (await Promise.all(others)).map(counted)
    expect(answers.map(([p]) => p)).toEqual([pid, pid, pid])
    const exit = await server.event((e) => e.event === 'childExit' && e.pid === pid, 'the worker to be replaced', from)
    expect(exit.signal).toBe('SIGKILL')
    expect(await after).toBe(200)
  })

  it('on QUIT drains every job in flight: each is answered, new requests get 503, exit 0', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--concurrency', '4'], APP)
    const [pid] = await server.serving(1)
    const held = gate()
    const { replies } = await holdJobs(server, held, 4)
    server.signal('SIGQUIT')
    const c = client(server.frontend)
    let status = 200
    for (let i = 0; i < 1000 && status === 200; i++) status = await statusOf(c.request('', 'late'))
    expect(status).toBe(Status.UNAVAILABLE)
    held.open()
    expect((await Promise.all(replies)).map(counted)).toEqual(Array(4).fill([pid, 4]))
    expect(await server.exited()).toBe(0)
  })

  it('on TERM answers each of the N jobs in flight once (503) and exits without waiting for them', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--concurrency', '4'], APP)
    await server.serving(1)
    const { replies } = await holdJobs(server, gate(), 4)
    server.signal('SIGTERM')
    expect(await Promise.all(replies.map(async (r) => await statusOf(r)))).toEqual([503, 503, 503, 503])
    expect(await server.exited()).toBe(0)
  })

  it('on HUP drains the old worker\'s jobs while a new worker takes the new ones', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '2', '--concurrency', '4'], APP)
    const [old] = await server.serving(1)
    const held = gate()
    const { replies, from } = await holdJobs(server, held, 4)
    server.signal('SIGHUP')
    await server.until(() => server.ready().some((p) => p !== old && server.workers.has(p)), 'a new worker')
    const c = client(server.frontend)
    const fresh = text(await c.request('', 'pid'))[0]
    expect(Number(fresh)).not.toBe(old)
    expect(server.events.slice(from).some((e) => e.event === 'childExit' && e.pid === old)).toBe(false)
    held.open()
    expect((await Promise.all(replies)).map(counted)).toEqual(Array(4).fill([old, 4]))
    const exit = await server.event((e) => e.event === 'childExit' && e.pid === old, 'the old worker to leave', from)
    expect(exit.code).toBe(0)
  })

  it('counts jobs for --max-requests: a worker starts no more than its limit, and no request fails', async () => {
    const server = await startServer(['--min-servers', '1', '--max-servers', '2', '--concurrency', '4', '--max-requests', '6'], APP)
    await server.serving(1)
    const c = client(server.frontend)
    const from = server.events.length
    const perPid = new Map<number, number>()
    // Batches of 8 at once: more than one worker's slots, and more than its limit.
    for (let batch = 0; batch < 4; batch++) {
      const pids = await Promise.all(Array.from({ length: 8 }, async () => Number(text(await c.request('', 'pid'))[0])))
      for (const pid of pids) perPid.set(pid, (perPid.get(pid) ?? 0) + 1)
    }
    expect([...perPid.values()].reduce((a, b) => a + b)).toBe(32)
    for (const [pid, served] of perPid) expect(served, `jobs of worker ${pid}`).toBeLessThanOrEqual(6)
    // Every worker that reached its limit was replaced.
    await server.until(() => [...perPid].filter(([, n]) => n === 6).every(([pid]) => server.events.slice(from).some((e) => e.event === 'childExit' && e.pid === pid)), 'the retired workers to leave')
  })
})
