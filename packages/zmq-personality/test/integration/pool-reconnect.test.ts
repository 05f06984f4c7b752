import { describe, expect, it } from 'vitest'
import { Status } from '@net-server/client'
import { setTimeout as delay } from 'node:timers/promises'
import { gate, statusOf, text } from '@net-server/test-support'
import { portOf } from '../../src/endpoints.js'
import { client, startServer, type ServerProcess } from '../support/server.js'

/** A broker alone: a ZmqServer with no children of its own, on the given ports. */
async function startBroker (port = '0,0'): Promise<ServerProcess> {
  return await startServer(['--port', port, '--min-servers', '0', '--max-spare-servers', '0', '--insecure-backend'], { kind: 'upper' })
}

describe('a WorkerPool for a remote broker', () => {
  it('serves, and its workers join the broker again after it restarts on the same ports', async () => {
    const broker = await startBroker()
    const pool = await startServer(['--connect', broker.backend, '--min-servers', '2'], { kind: 'pool' })
    const pids = await pool.settled(2)
    await broker.until(() => pids.every((pid) => broker.workers.has(pid)), 'the pool workers to join the broker')
    const c = client(broker.frontend)
    const answered = new Set<number>()
    for (let i = 0; i < 4; i++) answered.add(Number(text(await c.request('', 'pid'))[0]))
    expect([...answered].sort((a, b) => a - b)).toEqual(pids)

    const ports = `${portOf(broker.frontend)},${portOf(broker.backend)}`
    await broker.kill()
    const again = await startBroker(ports)
    expect(again.frontend).toBe(broker.frontend)
    // Workers notice the silence, reconnect with back-off and send READY again.
    await again.until(() => pids.every((pid) => again.workers.has(pid)), 'the pool workers to join the new broker')
    const after = new Set<number>()
    for (let i = 0; i < 4; i++) after.add(Number(text(await c.request('', 'pid'))[0]))
    expect([...after].sort((a, b) => a - b)).toEqual(pids)
    // The pool itself never replaced a worker.
    expect(pool.events.filter((e) => e.event === 'childExit')).toEqual([])
  })
})

/** A broker alone with `--job-timeout`, and a pool of one worker for it with the same timeout and `flags`. */
async function stuckSetup (jobTimeout: string, flags: readonly string[] = []): Promise<{ broker: ServerProcess, pool: ServerProcess, worker: number }> {
  const broker = await startServer(['--min-servers', '0', '--max-spare-servers', '0', '--job-timeout', jobTimeout, '--insecure-backend'], { kind: 'upper' })
  const pool = await startServer(['--connect', broker.backend, '--min-servers', '1', '--max-servers', '2', '--job-timeout', jobTimeout, ...flags], { kind: 'pool' })
  const [worker] = await pool.settled(1)
  await broker.until(() => broker.workers.has(worker!), 'the pool worker to join the broker')
  return { broker, pool, worker: worker! }
}

/** The pool's worker after `old`, once it has joined the broker. */
async function replacementOf (broker: ServerProcess, pool: ServerProcess, old: number): Promise<number> {
  // Each process is waited on for its own events: the pool's ready child, then the broker's worker.
  await pool.until(() => pool.ready().some((pid) => pid !== old), 'a replacement in the pool')
  const replacement = pool.ready().find((pid) => pid !== old)!
  await broker.until(() => broker.workers.has(replacement), 'the replacement to join the broker')
  return replacement
}

describe('a WorkerPool whose worker is stuck in a job', () => {
  it('gives up a job stuck while the loop runs: the worker asks to be replaced and leaves at once (exit 0)', async () => {
    const { broker, pool, worker } = await stuckSetup('0.5')
    const c = client(broker.frontend)
    // The broker answers 504 at its own deadline; the worker gives the job up a heartbeat later.
    expect(await statusOf(c.request('', 'hang'))).toBe(Status.TIMEOUT)
    const replacement = await replacementOf(broker, pool, worker)
    const exit = await pool.event((e) => e.event === 'childExit' && e.pid === worker, 'the stuck worker to leave')
    expect(exit.code).toBe(0)
    expect(text(await c.request('', 'pid'))).toEqual([String(replacement)])
  })

  it('kills a worker whose event loop a job blocks (no sign of life) and serves with its replacement', async () => {
    const { broker, pool, worker } = await stuckSetup('0.5')
    const c = client(broker.frontend)
    expect(await statusOf(c.request('', 'block'))).toBe(Status.TIMEOUT)
    const exit = await pool.event((e) => e.event === 'childExit' && e.pid === worker, 'the blocked worker to be killed')
    expect(exit.signal).toBe('SIGKILL')
    const replacement = await replacementOf(broker, pool, worker)
    expect(text(await c.request('', 'pid'))).toEqual([String(replacement)])
  })

  it('with concurrency, lets the worker\'s other jobs finish before it is replaced', async () => {
    const { broker, pool, worker } = await stuckSetup('3', ['--concurrency', '4'])
    const c = client(broker.frontend)
    const from = pool.events.length
    const started = (): number => pool.events.slice(from).filter((e) => e.event === 'jobStart').length
    const late = c.request('', ['count', gate().path])
    await pool.until(() => started() === 1, 'the job that will be stuck to start')
    // The other jobs start well after the stuck one, far from their own deadline when it
    // passes: the pause only widens that margin.
    await delay(1500)
    const held = gate()
    const others = [1, 2, 3].map(() => c.request('', ['count', held.path]))
    await pool.until(() => started() === 4, 'the other jobs to start')
    expect(await statusOf(late)).toBe(Status.TIMEOUT)
    expect(pool.live.has(worker)).toBe(true)
    held.open()
    expect((await Promise.all(others)).map((r) => text(r)[0])).toEqual(Array(3).fill(`${worker} 4`))
    const replacement = await replacementOf(broker, pool, worker)
    const exit = await pool.event((e) => e.event === 'childExit' && e.pid === worker, 'the worker to leave')
    expect(exit.code).toBe(0)
    expect(text(await c.request('', 'pid'))).toEqual([String(replacement)])
  })
})
