/**
 * Workers that announce the pid of one of the server's own children: neither one on
 * the children's private ipc endpoint nor one admitted over TCP can get that child
 * killed, and the child goes on serving. A real server process, rogue workers in the
 * test's process (a process of the same user).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Status } from '@net-server/client'
import { rejection, statusOf, tempDir, text } from '@net-server/test-support'
import { RawWorker } from '../support/broker.js'
import { logged, statusJson } from '../support/cli.js'
import { client, startServer } from '../support/server.js'

/** A routing id of the shape the server's children use (a tag of 8 random bytes, then more), with a tag of its own. */
const forgedChildId = (): string => `${randomBytes(8).toString('hex')}.${randomBytes(6).toString('hex')}`

describe('a process of the same user posing as a local child on the private ipc endpoint', () => {
  it('is refused by its pid, counted, and the child it names goes on serving', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--log-level', '3', '--pid-file', pidFile], { kind: 'upper' })
    const [pid] = await server.serving(1)
    await server.until(() => logged(server, /^local workers join the backend on ipc:/).length > 0, 'the private endpoint in the log')
    const [, endpoint] = /^local workers join the backend on (ipc:\/\/\S+)$/.exec(logged(server, /^local workers join/)[0]!)!
    const c = client(server.frontend)
    expect(text(await c.request('', 'pid'))).toEqual([String(pid)])

    // It knows the endpoint (same user: it may open the directory), the child's pid and
    // the shape of the children's routing ids, and offers the default service.
    const rogue = new RawWorker(endpoint!, forgedChildId())
    await rogue.ready('default', { pid: pid!, services: [] })
    await server.until(() => logged(server, /^zapRefused:notChild: /).length > 0, 'the refusal in the log')
    expect(logged(server, /^zapRefused:notChild: /)[0]).toMatch(new RegExp(
      `^zapRefused:notChild: worker refused on the backend: pid ${process.pid} \\(uid \\d+\\) is not one of the server's children, and the backend admits remote workers only with workerKeys .* \\(peer [^,]*:\\d+:\\d+:${process.pid}, NULL\\)$`))
    expect((await statusJson(pidFile)).losses.zapRefused.notChild).toBeGreaterThanOrEqual(1)
    // The jobs all go to the child; the rogue gets nothing.
    const jobs = await Promise.all(Array.from({ length: 10 }, async () => text(await c.request('', 'pid'))))
    expect(jobs).toEqual(Array.from({ length: 10 }, () => [String(pid)]))
    rogue.socket.receiveTimeout = 0
    expect((await rejection(rogue.socket.receive())).code).toBe('EAGAIN')
    expect(server.events.filter((e) => e.event === 'childExit' || e.event === 'childSpawn').map((e) => e.pid)).toEqual([pid])
  })
})

describe('a remote worker whose pid is also a local child\'s', () => {
  it('times out without the local child being killed for it, whatever routing id it forges', async () => {
    // --insecure-backend: a remote worker registers at all (by default it is refused).
    const server = await startServer(['--min-servers', '1', '--max-servers', '1', '--job-timeout', '2', '--insecure-backend'], { kind: 'upper' })
    const [pid] = await server.serving(1)
    // A worker of another host that happens to announce the same pid, with a routing id
    // of a child's shape, and never answers.
    const from = server.events.length
    const remote = new RawWorker(server.backend, forgedChildId())
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
