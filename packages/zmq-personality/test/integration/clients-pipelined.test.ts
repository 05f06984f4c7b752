import { describe, expect, it, onTestFinished } from 'vitest'
import {
  ClientErrorCode, NSZC, Status, decodeErrorFrame, isClientError, statusError
} from '@net-server/client'
import type { Job, WorkerInfo } from '@net-server/zmq'
import { deferred, nextEvent, rejection, text, within } from '@net-server/test-support'
import { RawWorker, dealer, startAgent, startBroker } from '../support/broker.js'
import { pipelinedClient, spawnWorker } from '../support/clients.js'

/** A reply that only this payload can produce. */
const derive = (payload: string): string[] => [[...payload].reverse().join(''), String(payload.length)]
const upper = (job: Job): string[] => job.body.map((f) => f.toString().toUpperCase())

/** An agent that holds jobs whose body is `hold` until the test releases them (or ends). */
async function holdingAgent (broker: Parameters<typeof startAgent>[0], backend: string): Promise<{ held: Promise<Job>, release: () => void }> {
  const held = deferred<Job>()
  const released = deferred()
  onTestFinished(() => released.resolve())
  await startAgent(broker, backend, async (job) => {
    if (job.body[0]!.toString() === 'hold') {
      held.resolve(job)
      await released.promise
    }
    return upper(job)
  })
  return { held: within(held.promise, 5000, 'a held job'), release: () => released.resolve() }
}

describe('pipelined Client against the broker', () => {
  it('matches 1000 pipelined requests to their own replies', async () => {
    const { broker, frontend, backend } = await startBroker()
    for (let i = 0; i < 3; i++) await startAgent(broker, backend, (job) => derive(job.body[0]!.toString()))
    const client = pipelinedClient({ endpoint: frontend, timeout: 10_000, retries: 0 })
    const payloads = Array.from({ length: 1000 }, (_, i) => `req-${i}-${Math.random().toString(36).slice(2)}`)
    const replies = await Promise.all(payloads.map((p) => client.request('', p)))
    replies.forEach((reply, i) => expect(text(reply)).toEqual(derive(payloads[i]!)))
    expect(client.stats).toMatchObject({ sent: 1000, received: 1000, retried: 0, late: 0, foreign: 0, malformed: 0, inFlight: 0, queued: 0 })
    // The three workers shared the load.
    expect(broker.workers().map((w) => w.served).sort((a, b) => a - b)[0]).toBeGreaterThan(0)
  })

  it('500: a job that throws rejects with NSZ_ERR_CLIENT_APP_ERROR carrying the message', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => { throw new Error(`cannot handle ${job.body[0]!.toString()}`) })
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000 })
    const err = await rejection(client.request('', 'payload-42'))
    expect(isClientError(err, ClientErrorCode.APP_ERROR)).toBe(true)
    expect(err).toMatchObject({ status: Status.APP_ERROR, detail: 'cannot handle payload-42', message: 'job failed: cannot handle payload-42' })
  })

  it('503: past maxQueue a request is refused at once, and the accepted ones are served', async () => {
    const { broker, frontend, backend } = await startBroker({ maxQueue: 1 })
    const { held, release } = await holdingAgent(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    const first = client.request('', 'hold')
    await held
    const queued = nextEvent(broker, 'requestQueued')
    const second = client.request('', 'second')
    await queued
    const err = await rejection(client.request('', 'third'))
    expect(err).toMatchObject({ code: ClientErrorCode.UNAVAILABLE, status: Status.UNAVAILABLE })
    release()
    expect(text(await first)).toEqual(['HOLD'])
    expect(text(await second)).toEqual(['SECOND'])
  })

  it('503: while the broker drains, new requests are refused and the job in flight finishes', async () => {
    const { broker, frontend, backend } = await startBroker()
    const { held, release } = await holdingAgent(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    const inFlight = client.request('', 'hold')
    await held
    const drained = broker.drain(10_000)
    expect(await rejection(client.request('', 'too late'))).toMatchObject({ code: ClientErrorCode.UNAVAILABLE, status: 503 })
    release()
    expect(text(await inFlight)).toEqual(['HOLD'])
    await within(drained, 5000, 'the drain to end')
  })

  it('503: closing the broker answers the job in flight and the queued requests', async () => {
    const { broker, frontend, backend } = await startBroker()
    const { held } = await holdingAgent(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    const inFlight = rejection(client.request('', 'hold'))
    await held
    const queued = nextEvent(broker, 'requestQueued')
    const waiting = rejection(client.request('', 'waiting'))
    await queued
    await broker.close()
    expect(await inFlight).toMatchObject({ code: ClientErrorCode.UNAVAILABLE, status: 503 })
    expect(await waiting).toMatchObject({ code: ClientErrorCode.UNAVAILABLE, status: 503 })
  })

  it('504: a job past jobTimeout rejects with NSZ_ERR_CLIENT_JOB_TIMEOUT', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 200 })
    await holdingAgent(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    const started = performance.now()
    const err = await rejection(client.request('', 'hold'))
    expect(err).toMatchObject({ code: ClientErrorCode.JOB_TIMEOUT, status: Status.TIMEOUT })
    expect(performance.now() - started).toBeGreaterThanOrEqual(195)
    expect(broker.stats().jobTimeouts).toBe(1)
  })

  it('502: a worker process killed mid-job rejects with NSZ_ERR_CLIENT_WORKER_LOST', async () => {
    const { broker, frontend, backend } = await startBroker()
    const worker = await spawnWorker(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 10_000, retries: 0 })
    const busy = nextEvent(broker, 'workerBusy', 5000)
    const pending = client.request('', 'hang')
    expect((await busy)[0].pid).toBe(worker.pid)
    worker.signal('SIGKILL')
    const err = await rejection(pending)
    expect(err).toMatchObject({ code: ClientErrorCode.WORKER_LOST, status: Status.WORKER_LOST })
    expect((await worker.closed).signal).toBe('SIGKILL')
  })

  // A worker that vanishes without DISCONNECT (a crash, SIGKILL) while idle must not
  // cost a job. The broker learns of it when a send to it fails (EHOSTUNREACH): at its
  // next heartbeat, or when it hands it a job, which then goes to another worker. A job
  // that libzmq accepted for a connection it had not yet seen die is lost with the
  // connection (502, or requeued), as with any worker death; so this test waits for
  // the heartbeat to find the worker gone, then checks that no job went its way.
  it('drops an idle worker that vanished at the next heartbeat, and serves with a live one', async () => {
    const { broker, frontend, backend } = await startBroker({ heartbeatInterval: 50, heartbeatLiveness: 1000 })
    const vanished = new RawWorker(backend)
    const first = nextEvent(broker, 'workerReady', 5000)
    await vanished.ready('default')
    await first
    await startAgent(broker, backend, () => 'from the live worker')
    const gone = nextEvent(broker, 'workerGone', 5000)
    vanished.socket.close()
    const [worker, reason] = await gone
    expect(worker.pid).toBeUndefined()
    expect(reason).toBe('unreachable')
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    expect(text(await client.request('', 'job'))).toEqual(['from the live worker'])
    expect(broker.stats().errors).toEqual({})
  })

  it('404: a service that no worker offered fails once the grace is over', async () => {
    const { broker, frontend, backend } = await startBroker({ serviceGrace: 50 })
    await startAgent(broker, backend, upper, { services: ['known'] })
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    // Sent during the grace, it waits in the queue, then gets 404 when the grace ends.
    const during = rejection(client.request('unknown.service', 'x'))
    expect(await during).toMatchObject({ code: ClientErrorCode.UNKNOWN_SERVICE, status: Status.NO_SERVICE })
    // After the grace, at once.
    expect(await rejection(client.request('other.unknown', 'y'))).toMatchObject({ code: ClientErrorCode.UNKNOWN_SERVICE })
    expect(text(await client.request('known', 'z'))).toEqual(['Z'])
  })

  it('413: a request body past maxMessageSize rejects with NSZ_ERR_CLIENT_TOO_LARGE', async () => {
    const { broker, frontend, backend } = await startBroker({ maxMessageSize: 8 })
    await startAgent(broker, backend, upper)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    expect(await rejection(client.request('', '123456789'))).toMatchObject({ code: ClientErrorCode.TOO_LARGE, status: 413 })
    // The bound counts all body frames together.
    expect(await rejection(client.request('', ['12345', '6789']))).toMatchObject({ code: ClientErrorCode.TOO_LARGE })
    expect(text(await client.request('', ['1234', 'abcd']))).toEqual(['1234', 'ABCD'])
  })

  it('400: a malformed request gets ERROR 400, which the codec turns into NSZ_ERR_CLIENT_MALFORMED', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper)
    const raw = dealer(frontend)
    const cases: [frames: string[], reason: string][] = [
      [['no delimiter'], 'missing empty delimiter frame'],
      [['', NSZC, 'default'], `${NSZC} request needs service and request id frames`],
      [['', NSZC, 'default', ''], `${NSZC} request id frame is empty`],
      [['', 'MDPC01'], 'MDPC01 request needs a service frame']
    ]
    for (const [frames, reason] of cases) {
      await raw.send(frames)
      const reply = await raw.receive()
      expect(reply[0]!.length).toBe(0)
      const failure = decodeErrorFrame(reply.slice(1))
      expect(failure).toEqual({ status: Status.MALFORMED, message: reason })
      const err = statusError(failure!.status, failure!.message)
      expect(err).toMatchObject({ code: ClientErrorCode.MALFORMED, status: 400, detail: reason })
    }
    expect(broker.stats().protocolErrors).toBe(cases.length)
    // The broker keeps serving well-formed clients.
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000 })
    expect(text(await client.request('', 'fine'))).toEqual(['FINE'])
  })

  it('drops the late reply of a request that was resent and already answered', async () => {
    const { broker, frontend, backend } = await startBroker()
    // Job ids on the wire are random: the worker records them in the order it ran the jobs.
    const ran: string[] = []
    await startAgent(broker, backend, async (job) => {
      ran.push(job.id)
      if (ran.length === 1) {
        // Answer only once the resend of this very request waits behind it.
        await nextEvent(broker, 'requestQueued', 5000)
      }
      return [job.id]
    })
    const client = pipelinedClient({ endpoint: frontend, timeout: 300, retries: 1 })
    const reply = client.request('', 'twice')
    // The first reply settles the request; the resend's reply comes later and is dropped.
    const [jobId] = text(await reply)
    expect(jobId).toBe(ran[0])
    // Replies arrive in order on the one connection: by this reply, the late one was seen.
    const marker = await client.request('', 'marker')
    expect(ran).toHaveLength(3)
    expect(text(marker)[0]).toBe(ran[2])
    expect(client.stats).toMatchObject({ retried: 1, received: 2, late: 1, inFlight: 0 })
  })

  it('rejects an aborted request with the abort reason and ignores its reply', async () => {
    const { broker, frontend, backend } = await startBroker()
    const { held, release } = await holdingAgent(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000, retries: 0 })
    const controller = new AbortController()
    const pending = client.request('', 'hold', { signal: controller.signal })
    await held
    const reason = new Error('user cancelled')
    controller.abort(reason)
    expect(await rejection(pending)).toBe(reason)
    expect(client.stats.inFlight).toBe(0)
    const idle = nextEvent(broker, 'workerIdle', 5000, (w: WorkerInfo) => w.served === 1)
    release()
    await idle
    expect(text(await client.request('', 'after'))).toEqual(['AFTER'])
    expect(client.stats).toMatchObject({ received: 1, late: 1 })
  })

  it('rejects requests in flight with NSZ_ERR_CLIENT_CLOSED when closed', async () => {
    const { broker, frontend, backend } = await startBroker()
    const { held } = await holdingAgent(broker, backend)
    const client = pipelinedClient({ endpoint: frontend, timeout: 5000 })
    const pending = client.request('', 'hold')
    await held
    client.close()
    expect(await rejection(pending)).toMatchObject({ code: ClientErrorCode.CLOSED })
    expect(await rejection(client.request('', 'x'))).toMatchObject({ code: ClientErrorCode.CLOSED })
  })
})
