import { describe, expect, it, onTestFinished } from 'vitest'
import { Status } from '@net-server/client'
import { statusOf, text } from '@net-server/test-support'
import { RawWorker } from '../support/broker.js'
import { client, startServer } from '../support/server.js'

describe('a remote worker whose pid is also a local child\'s', () => {
  it('times out without the local child being killed for it', async () => {
    // --insecure-backend: a remote worker registers at all (by default it is refused).
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--job-timeout', '2', '--insecure-backend'], { kind: 'upper' })
    const [pid] = await server.serving(1)
    // A worker of another host that happens to announce the same pid, and never answers.
    const from = server.events.length
    const remote = new RawWorker(server.backend)
    onTestFinished(() => { remote.socket.close() })
    await remote.ready('default', { pid: pid!, services: [] })
    await server.event((e) => e.event === 'workerReady' && e.pid === pid, 'the remote worker registered', from)

    const c = client(server.frontend)
    // The local child serves a job first, so that the remote worker is the least
    // recently used one: it takes the next job and never answers it (504 at 2 s).
    expect(text(await c.request('', 'pid'))).toEqual([String(pid)])
    expect(await statusOf(c.request('', 'lost'))).toBe(Status.TIMEOUT)
    // The broker acts on a timeout before it answers 504: a child wrongly SIGKILLed
    // for it would be dead by now, and the next job would fail or meet a new pid.
    expect(text(await c.request('', 'pid'))).toEqual([String(pid)])
    expect(server.events.some((e) => e.event === 'childExit')).toBe(false)
  })
})
