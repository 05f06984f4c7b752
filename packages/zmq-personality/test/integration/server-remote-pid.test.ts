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
    // The local child (least recently used) takes the first job, the remote one the
    // second, which times out at 2 s; by then the local child is busy with a third job
    // (from 1 s to 2.5 s), which must not be lost with a wrongly killed child.
    const first = c.request('', ['sleep', '1000'])
    const lost = statusOf(c.request('', 'lost'))
    expect(text(await first)).toEqual([`slept ${pid!}`])
    const busy = c.request('', ['sleep', '1500'])
    expect(await lost).toBe(Status.TIMEOUT)
    expect(text(await busy)).toEqual([`slept ${pid!}`])
    expect(text(await c.request('', 'pid'))).toEqual([String(pid)])
    expect(server.events.some((e) => e.event === 'childExit')).toBe(false)
  })
})
