import { describe, expect, it } from 'vitest'
import { Status } from '@net-server/client'
import { statusOf, text } from '@net-server/test-support'
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

describe('a WorkerPool whose worker is stuck in a job', () => {
  it('kills the stuck worker after jobTimeout and serves again with its replacement', async () => {
    const broker = await startServer(['--min-servers', '0', '--max-spare-servers', '0', '--job-timeout', '0.5', '--insecure-backend'], { kind: 'upper' })
    const pool = await startServer(['--connect', broker.backend, '--min-servers', '1', '--max-servers', '1', '--job-timeout', '0.5'], { kind: 'pool' })
    const [stuck] = await pool.settled(1)
    await broker.until(() => broker.workers.has(stuck!), 'the pool worker to join the broker')
    const c = client(broker.frontend)
    // The broker answers 504 at its own deadline; the pool kills the worker a moment later.
    expect(await statusOf(c.request('', 'hang'))).toBe(Status.TIMEOUT)
    const exit = await pool.event((e) => e.event === 'childExit' && e.pid === stuck, 'the stuck worker to be killed')
    expect(exit.signal).toBe('SIGKILL')
    const [replacement] = await pool.settled(1)
    expect(replacement).not.toBe(stuck)
    await broker.until(() => broker.workers.has(replacement!), 'the replacement to join the broker')
    expect(text(await c.request('', 'pid'))).toEqual([String(replacement)])
  })
})
