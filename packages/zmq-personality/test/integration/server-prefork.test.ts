import { describe, expect, it, onTestFinished } from 'vitest'
import type { Client } from '@net-server/client'
import { Status } from '@net-server/client'
import { gate, statusOf, text } from '@net-server/test-support'
import { client, startServer, type ServerProcess } from '../support/server.js'

const APP = { kind: 'upper' }

/**
 * Requests that keep flowing, one after the other per client, until `stop()` (called
 * when the test ends at the latest). Each waits for its reply, or its client's timeout.
 */
function requestLoop (clients: readonly Client[]): { stop: () => Promise<{ ok: number, failures: string[], pids: Set<number> }> } {
  const state = { running: true }
  const failures: string[] = []
  const pids = new Set<number>()
  let ok = 0
  const loops = clients.map(async (c) => {
    while (state.running && !c.closed) {
      try {
        pids.add(Number(text(await c.request('', 'pid'))[0]))
        ok++
      } catch (err) {
        failures.push((err as Error).message)
      }
    }
  })
  const stop = async (): Promise<{ ok: number, failures: string[], pids: Set<number> }> => {
    state.running = false
    await Promise.all(loops)
    return { ok, failures, pids }
  }
  onTestFinished(async () => { await stop() })
  return { stop }
}

function exitsAfter (server: ServerProcess, from: number): number[] {
  return server.events.slice(from).filter((e) => e.event === 'childExit').map((e) => e.pid!)
}

describe('the prefork rules while jobs flow', () => {
  it('recycles workers after --max-requests without failing a request', async () => {
    const server = await startServer(['--min-servers', '2', '--max-requests', '5'], APP)
    const first = await server.serving(2)
    const loop = requestLoop([client(server.frontend), client(server.frontend)])
    // Each worker retires after 5 jobs and leaves once its replacement is ready.
    await server.until(() => first.every((pid) => !server.live.has(pid)), 'the first workers to retire')
    await server.until(() => server.events.some((e) => e.event === 'childState' && e.state === 'processing' && !first.includes(e.pid!)), 'a job on a new worker')
    const result = await loop.stop()
    expect(result.failures).toEqual([])
    expect([...result.pids].some((pid) => !first.includes(pid))).toBe(true)
    const exits = server.events.filter((e) => e.event === 'childExit' && first.includes(e.pid!))
    expect(exits.map((e) => e.code)).toEqual([0, 0])
    expect((await server.serving(2)).some((pid) => first.includes(pid))).toBe(false)
  })

  it('adds a worker on TTIN and removes one on TTOU', async () => {
    const server = await startServer(['--min-servers', '2'], APP)
    await server.serving(2)
    server.signal('SIGTTIN')
    const three = await server.serving(3)
    const c = client(server.frontend)
    const answered = new Set<number>()
    for (let i = 0; i < 6; i++) answered.add(Number(text(await c.request('', 'pid'))[0]))
    expect([...answered].sort((a, b) => a - b)).toEqual(three)
    const from = server.events.length
    // One signal at a time: two of the same signal in a row may arrive as one.
    server.signal('SIGTTOU')
    await server.until(() => exitsAfter(server, from).length === 1, 'a worker to leave')
    expect(await server.serving(2)).toHaveLength(2)
    server.signal('SIGTTOU')
    await server.until(() => exitsAfter(server, from).length === 2, 'another worker to leave')
    expect(await server.serving(1)).toHaveLength(1)
    expect(text(await c.request('', 'still'))).toEqual(['STILL'])
  })

  it('replaces every worker on HUP while requests keep succeeding', async () => {
    const server = await startServer(['--min-servers', '3'], APP)
    const old = await server.serving(3)
    const loop = requestLoop([client(server.frontend), client(server.frontend), client(server.frontend)])
    // Requests flow through the old workers first.
    await server.until(() => server.events.filter((e) => e.event === 'childState' && e.state === 'processing').length >= 9, 'requests to flow')
    server.signal('SIGHUP')
    await server.until(() => old.every((pid) => !server.live.has(pid)), 'the old workers to leave')
    const renewed = await server.serving(3)
    // The new workers serve before the loop stops.
    const from = server.events.length
    await server.until(() => server.events.slice(from).filter((e) => e.event === 'childState' && e.state === 'processing').length >= 9, 'requests on the new workers')
    const result = await loop.stop()
    expect(result.failures, JSON.stringify(server.events.filter((e) => e.event !== 'childState' || e.state === 'exiting'))).toEqual([])
    expect(renewed.some((pid) => old.includes(pid))).toBe(false)
    for (const pid of renewed) expect(result.pids).toContain(pid)
    expect(result.ok).toBeGreaterThan(18)
  })

  it('on QUIT finishes the job in flight, answers new requests 503 and exits 0', async () => {
    const server = await startServer(['--min-servers', '2'], APP)
    await server.serving(2)
    const c = client(server.frontend)
    const from = server.events.length
    const held = gate()
    const inFlight = c.request('', ['hold', held.path])
    await server.event((e) => e.event === 'childState' && e.state === 'processing', 'the job to start', from)
    server.signal('SIGQUIT')
    // Requests sent before the signal lands are served; from then on they get 503.
    let status = 200
    for (let i = 0; i < 1000 && status === 200; i++) status = await statusOf(c.request('', 'late'))
    expect(status).toBe(Status.UNAVAILABLE)
    held.open()
    expect(text(await inFlight)[0]).toMatch(/^released \d+$/)
    expect(await server.exit).toEqual({ code: 0, signal: null })
    expect(server.live.size).toBe(0)
  })

  it('on TERM answers the job in flight 503 and exits without waiting for the stuck job', async () => {
    const server = await startServer(['--min-servers', '2'], APP)
    await server.serving(2)
    const c = client(server.frontend)
    const from = server.events.length
    const inFlight = statusOf(c.request('', 'hang'))
    await server.event((e) => e.event === 'childState' && e.state === 'processing', 'the job to start', from)
    server.signal('SIGTERM')
    const signalled = Date.now()
    expect(await inFlight).toBe(Status.UNAVAILABLE)
    expect(await server.exit).toEqual({ code: 0, signal: null })
    // Well before --graceful-timeout (10 s), when the parent would kill the worker.
    expect(Date.now() - signalled).toBeLessThan(8000)
    expect(server.live.size).toBe(0)
  })
})
