import { describe, expect, it, onTestFinished } from 'vitest'
import { ClientErrorCode, type RetryEvent } from '@net-server/client'
import { Broker, type Job, type WorkerInfo } from '@net-server/zmq'
import { deferred, nextEvent, rejection, text, within } from '@net-server/test-support'
import { FAST, startAgent, startBroker } from '../support/broker.js'
import { lazyClient, startTsFixture } from '../support/clients.js'

const upper = (job: Job): string[] => job.body.map((f) => f.toString().toUpperCase())

/** A loopback endpoint where nothing listens now: a broker bound it and closed. */
async function releasedFrontend (): Promise<string> {
  const broker = new Broker(FAST)
  const { frontend } = await broker.bind()
  await broker.close()
  return frontend
}

describe('LazyPirateClient against the broker', () => {
  it('gets replies to plain REQ requests, one frame or several, one after the other', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper)
    const client = lazyClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    expect(text(await client.request('hello'))).toEqual(['HELLO'])
    expect(text(await client.request(['multi', Buffer.from('frame')]))).toEqual(['MULTI', 'FRAME'])
    // Concurrent calls take their turn on the one REQ socket.
    const replies = await Promise.all(['a', 'b', 'c'].map((p) => client.request(p)))
    expect(replies.map(text)).toEqual([['A'], ['B'], ['C']])
    expect(broker.stats()).toMatchObject({ accepted: 5, served: 5 })
  })

  it('sets its routing id with the identity option', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper)
    const client = lazyClient({ endpoint: frontend, identity: 'lazy-client-7', timeout: 5000 })
    expect(text(await client.request('x'))).toEqual(['X'])
    // The broker names the peer of a malformed request by its routing id.
    const error = nextEvent(broker, 'protocolError', 5000)
    expect((await rejection(client.request('NSZC01'))).code).toBe(ClientErrorCode.MALFORMED)
    expect(await error).toEqual(['frontend', Buffer.from('lazy-client-7').toString('hex'), expect.any(String)])
  })

  it('resends after a timeout when the first attempt was lost: the broker was not there yet', async () => {
    const frontend = await releasedFrontend()
    const retries: RetryEvent[] = []
    let started: Promise<Broker> | undefined
    const client = lazyClient({
      endpoint: frontend,
      timeout: 1000,
      retries: 3,
      onRetry: (event) => {
        retries.push(event)
        // The first socket is closed by now, its request dropped: only a resend can be served.
        started ??= (async () => {
          const { broker, backend } = await startBroker({ frontend })
          await startAgent(broker, backend, upper)
          return broker
        })()
      }
    })
    expect(text(await client.request('late broker'))).toEqual(['LATE BROKER'])
    expect(retries[0]).toEqual({ attempt: 1, retries: 3, timeout: 1000 })
    const broker = await started!
    // Every request that reached the broker was answered, and the first never did.
    expect(broker.stats().accepted).toBe(retries.length)
  })

  it('resends after a timeout when the broker process died holding the request', async () => {
    const first = startTsFixture('broker.ts', [])
    const [, frontend] = await first.line(/^bound (\S+) (\S+)$/, 20_000)
    const retried = deferred()
    const client = lazyClient({ endpoint: frontend!, timeout: 1500, retries: 3, onRetry: () => retried.resolve() })
    const reply = client.request('survivor')
    // No worker: the request waits in the first broker's queue, and dies with it.
    await first.line(/^queued default 1$/)
    first.signal('SIGKILL')
    expect((await first.closed).signal).toBe('SIGKILL')
    const { broker, backend } = await startBroker({ frontend: frontend! })
    await startAgent(broker, backend, upper)
    await retried.promise
    expect(text(await reply)).toEqual(['SURVIVOR'])
  })

  it('gets its reply with a fixed identity when a resend reconnects with the same routing id', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 0 })
    const hold = deferred()
    onTestFinished(() => hold.resolve())
    let first = true
    const handler = async (job: Job): Promise<string[]> => {
      if (first) {
        first = false
        await hold.promise
      }
      return upper(job)
    }
    await startAgent(broker, backend, handler)
    await startAgent(broker, backend, handler)
    const attempts: number[] = []
    const client = lazyClient({ endpoint: frontend, identity: 'fixed-id', timeout: 300, retries: 3, onRetry: (e) => attempts.push(e.attempt) })
    // The first attempt is held by a worker; a resend goes to the other one. While the
    // broker still holds the old connection of 'fixed-id', libzmq refuses a new one with
    // the same routing id, so a resend may be lost: a later one gets through.
    expect(text(await client.request('fixed'))).toEqual(['FIXED'])
    expect(attempts.length).toBeGreaterThanOrEqual(1)
    expect(attempts.length).toBeLessThanOrEqual(3)
  })

  it('gives up with NSZ_ERR_CLIENT_TIMEOUT after retries + 1 attempts of a full timeout each when no reply comes', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 0 })
    const hold = deferred()
    onTestFinished(() => hold.resolve())
    await startAgent(broker, backend, async () => { await hold.promise })
    const attempts: number[] = []
    const at: number[] = []
    const client = lazyClient({
      endpoint: frontend, timeout: 200, retries: 2, onRetry: (e) => { attempts.push(e.attempt); at.push(performance.now()) }
    })
    const started = performance.now()
    const err = await rejection(client.request('never answered'))
    at.push(performance.now())
    expect(err.code).toBe(ClientErrorCode.TIMEOUT)
    expect(err.message).toBe('no reply after 3 attempts of 200 ms')
    expect(attempts).toEqual([1, 2])
    // Each attempt waited its full timeout before the next one (or the failure). How
    // much later the timers fired is the machine's business, not the client's: no
    // upper bound on a shared machine.
    const gaps = at.map((t, i) => t - (i === 0 ? started : at[i - 1]!))
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(200 - 5)
    // All three attempts reached the broker: one went to the worker, two wait for it.
    expect(broker.stats()).toMatchObject({ accepted: 3, inFlight: 1, queued: 2 })
  })

  it('speaks MDP/0.1 with a service: replies, typed failures and MMI', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => {
      if (job.body[0]!.toString() === 'fail') throw new Error('refused by the job')
      return [job.service, ...upper(job)]
    }, { services: ['text.upper', 'text.other'] })
    const client = lazyClient({ endpoint: frontend, service: 'text.upper', timeout: 5000 })
    expect(text(await client.request(['abc', 'def']))).toEqual(['text.upper', 'ABC', 'DEF'])
    const err = await rejection(client.request('fail'))
    expect(err).toMatchObject({ code: ClientErrorCode.APP_ERROR, status: 500, detail: 'refused by the job' })
    const other = lazyClient({ endpoint: frontend, service: 'text.other', timeout: 5000 })
    expect(text(await other.request('x'))).toEqual(['text.other', 'X'])
    const mmi = lazyClient({ endpoint: frontend, service: 'mmi.service', timeout: 5000 })
    expect(text(await mmi.request('text.upper'))).toEqual(['200'])
    expect(text(await mmi.request('text.nothing'))).toEqual(['404'])
  })

  it('turns the broker\'s ERROR frames into typed errors in plain REQ mode', async () => {
    const { broker, frontend, backend } = await startBroker({ maxMessageSize: 16 })
    await startAgent(broker, backend, (job) => {
      if (job.body[0]!.toString() === 'throw') throw new Error('job says no')
      return upper(job)
    })
    const client = lazyClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    expect(await rejection(client.request('throw'))).toMatchObject({ code: ClientErrorCode.APP_ERROR, detail: 'job says no' })
    expect(await rejection(client.request('x'.repeat(17)))).toMatchObject({ code: ClientErrorCode.TOO_LARGE, status: 413 })
    // A body whose first frame is a dialect header is read as that dialect: here a bad one.
    expect(await rejection(client.request('NSZC01'))).toMatchObject({ code: ClientErrorCode.MALFORMED, status: 400 })
    // The socket is still usable after each failure.
    expect(text(await client.request('ok'))).toEqual(['OK'])
  })

  it('rejects with the abort reason and serves the next request on a fresh socket', async () => {
    const { broker, frontend, backend } = await startBroker()
    const held = deferred<Job>()
    const release = deferred()
    onTestFinished(() => release.resolve())
    await startAgent(broker, backend, async (job) => {
      if (job.body[0]!.toString() === 'hold') {
        held.resolve(job)
        await release.promise
      }
      return upper(job)
    })
    const client = lazyClient({ endpoint: frontend, timeout: 5000 })
    const controller = new AbortController()
    const pending = client.request('hold', { signal: controller.signal })
    await within(held.promise, 5000, 'the job to reach the worker')
    controller.abort(new Error('changed my mind'))
    expect((await rejection(pending)).message).toBe('changed my mind')
    const idle = nextEvent(broker, 'workerIdle', 5000, (w: WorkerInfo) => w.served === 1)
    release.resolve()
    await idle
    expect(text(await client.request('next'))).toEqual(['NEXT'])
  })
})
