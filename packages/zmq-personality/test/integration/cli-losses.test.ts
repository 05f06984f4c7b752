/**
 * What `nsz serve` says and counts when it refuses or loses something: each ZAP
 * refusal once, rate-limited and counted by reason; job timeouts (504) rate-limited;
 * a queued request past its deadline. A real server process from dist, real peers.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Status } from '@net-server/client'
import { tempDir, text } from '@net-server/test-support'
import { NszClient, RawWorker, dealer, from127002, reqCall, reqClient } from '../support/broker.js'
import { logged, serve, statusJson, statusUntil, suppressed } from '../support/cli.js'
import { fixture } from '../support/fixture.js'
import { stop } from '../support/security.js'

describe('connections refused by ZAP', () => {
  it('are logged once each, rate-limited, and counted by reason in nsz status --json', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend, backend } = await serve(['--min-servers', '1', '--min-spare-servers', '0', '--log-level', '2', '--cidr-allow', '127.0.0.1/32', '--pid-file', pidFile, fixture('cli-app.js')])
    await proc.line(/^ready workers=1$/)
    const ROGUES = 30
    const rogues = Array.from({ length: ROGUES }, () => new RawWorker(from127002(backend)))
    await Promise.all(rogues.map(async (rogue) => { await rogue.ready('default') }))
    // A client from an address the access rules do not allow.
    const stranger = dealer(from127002(frontend))
    await stranger.send(['', 'hello'])
    // libzmq may try a refused connection again now and then: each try is a refusal.
    const status = await statusUntil(pidFile, (s) => s.losses.zapRefused.workerKey >= ROGUES && s.losses.zapRefused.address >= 1, 'every refusal counted')
    expect(status.losses.zapRefused).toMatchObject({ clientKey: 0, notChild: 0 })
    // A client from an allowed address is served meanwhile.
    expect(await reqCall(reqClient(frontend), 'still open')).toEqual(['STILL OPEN'])

    // One line for the first refusal of each kind, none from the ZAP handler itself.
    expect(logged(proc, /zapRefused:workerKey/)).toEqual([
      'zapRefused:workerKey: worker refused on the backend: the backend admits remote workers only with workerKeys (--worker-keys) or insecureBackend (--insecure-backend) (peer 127.0.0.2, NULL)'
    ])
    expect(logged(proc, /zapRefused:address/)).toEqual([
      'zapRefused:address: client refused on the frontend: the access rules (allow, deny, cidrAllow, cidrDeny) refuse address 127.0.0.2 (peer 127.0.0.2, NULL)'
    ])
    expect(logged(proc, /ZAP refused/)).toEqual([])
    // The rest of the flood is said in a summary, at the latest when the server stops.
    await stop(proc)
    expect(suppressed(logged(proc, /zapRefused:workerKey/), 'zapRefused:workerKey')).toBeGreaterThanOrEqual(ROGUES - 1)
    expect(suppressed(logged(proc, /zapRefused:address/), 'zapRefused:address')).toBeGreaterThanOrEqual(0)
  })
})

describe('job timeouts (504)', () => {
  it('are logged one line per window and a summary, however many there are', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    // Workers of the test's own that take a job and never answer it.
    const { proc, frontend, backend } = await serve(['--min-servers', '0', '--min-spare-servers', '0', '--insecure-backend', '--job-timeout', '0.2', '--log-level', '1', '--pid-file', pidFile])
    await proc.line(/^ready workers=0$/)
    const TIMEOUTS = 20
    const silent = Array.from({ length: TIMEOUTS }, () => new RawWorker(backend))
    await Promise.all(silent.map(async (worker) => { await worker.ready('default') }))
    await statusUntil(pidFile, (s) => s.remoteWorkers === TIMEOUTS, 'the silent workers in the pool')
    const client = new NszClient(frontend)
    const replies = await Promise.all(Array.from({ length: TIMEOUTS }, async (_, i) => await client.call('default', `job ${i}`)))
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: TIMEOUTS }, () => Status.TIMEOUT))
    expect((await statusJson(pidFile)).errors).toEqual({ 504: TIMEOUTS })

    expect(logged(proc, /jobTimeout/)).toHaveLength(1)
    expect(logged(proc, /jobTimeout/)[0]).toMatch(/^jobTimeout: job \d+ ran past jobTimeout \(200 ms\) on worker [0-9a-f]+: answered 504; the worker is replaced \(a child of this server is killed, a remote worker dropped\)$/)
    await stop(proc)
    expect(suppressed(logged(proc, /jobTimeout/), 'jobTimeout')).toBe(TIMEOUTS - 1)
  })
})

describe('a queued request for a service with no workers', () => {
  it('gets 503 "waited too long" after queueTimeout, counted and logged', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend } = await serve(['--min-servers', '0', '--min-spare-servers', '0', '--queue-timeout', '0.3', '--log-level', '3', '--pid-file', pidFile, fixture('cli-app.js')])
    await proc.line(/^ready workers=0$/)
    const client = new NszClient(frontend)
    const started = performance.now()
    const [nsz, req] = await Promise.all([client.call('default', 'x'), reqCall(reqClient(frontend), 'y')])
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(nsz.status).toBe(Status.UNAVAILABLE)
    expect(text(nsz.body)).toEqual(['the request waited too long: 300 ms for a worker of service default (queueTimeout)'])
    expect(req).toEqual(['ERROR 503 the request waited too long: 300 ms for a worker of service default (queueTimeout)'])
    const status = await statusJson(pidFile)
    expect(status).toMatchObject({ queued: 0, errors: { 503: 2 } })
    expect(status.losses.refused.queueTimeout).toBe(2)
    await proc.until(() => logged(proc, /refused:queueTimeout/).length > 0, 'the queue timeout in the log')
    expect(logged(proc, /refused:queueTimeout/)[0]).toMatch(/^refused:queueTimeout: the request waited too long: 300 ms/)
  })
})
