import { describe, expect, it, onTestFinished } from 'vitest'
import { Client, Command, MDPC, Status, encodeDisconnect, encodeMdpRequest } from '@net-server/client'
import { Broker as BrokerClass, type Broker, type Job } from '@net-server/zmq'
import { nextEvent, text } from '@net-server/test-support'
import { NszClient, RawWorker, dealer, rawWorkerWithJob, reqCall, reqClient, startAgent, startBroker } from '../support/broker.js'

const upper = (job: Job) => job.body.map((f) => f.toString().toUpperCase())

describe('frontend dialects', () => {
  it('answers a plain REQ client through the default service', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper)
    const client = reqClient(frontend)
    expect(await reqCall(client, 'hello')).toEqual(['HELLO'])
    expect(await reqCall(client, ['multi', 'frame'])).toEqual(['MULTI', 'FRAME'])
  })

  it('answers an MDP/0.1 client with its service frame', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper, { services: ['echo'] })
    const client = dealer(frontend)
    await client.send(encodeMdpRequest('echo', 'abc'))
    expect(text(await client.receive())).toEqual(['', MDPC, 'echo', 'ABC'])
  })

  it('answers a client of the project dialect with its request id and a status', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => {
      if (job.body[0]!.toString() === 'fail') throw new Error('no thanks')
      return upper(job)
    })
    const client = new NszClient(frontend)
    const ok = await client.call('default', 'x')
    expect(ok.status).toBe(200)
    expect(text(ok.body)).toEqual(['X'])
    const failed = await client.call('default', 'fail')
    expect(failed.status).toBe(Status.APP_ERROR)
    expect(text(failed.body)).toEqual(['no thanks'])
    // The worker keeps serving after a throw.
    expect((await client.call('', 'y')).status).toBe(200)
  })

  it('turns a throw into ERROR 500 for a plain REQ client', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, () => { throw new Error('bad input') })
    expect(await reqCall(reqClient(frontend), 'x')).toEqual(['ERROR 500 bad input'])
  })

  it('treats clients named "waiting" or 0x01 as plain clients', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper)
    expect(await reqCall(reqClient(frontend, 'waiting'), 'a')).toEqual(['A'])
    expect(await reqCall(reqClient(frontend, '\x01'), 'b')).toEqual(['B'])
  })

  it('answers MMI mmi.service with 200, 404, and 501 for other mmi services', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, upper, { services: ['echo'] })
    const client = dealer(frontend)
    const ask = async (service: string, body: string) => {
      await client.send(encodeMdpRequest(service, body))
      return text(await client.receive())
    }
    expect(await ask('mmi.service', 'echo')).toEqual(['', MDPC, 'mmi.service', '200'])
    expect(await ask('mmi.service', 'nope')).toEqual(['', MDPC, 'mmi.service', '404'])
    expect(await ask('mmi.workers', 'echo')).toEqual(['', MDPC, 'mmi.workers', '501'])
  })
})

describe('balancing and queueing', () => {
  it('sends each request to the least recently used idle worker', async () => {
    const { broker, frontend, backend } = await startBroker()
    for (const name of ['w1', 'w2', 'w3']) await startAgent(broker, backend, () => name)
    const client = reqClient(frontend)
    const order: string[] = []
    for (let i = 0; i < 6; i++) order.push((await reqCall(client, 'who'))[0]!)
    expect(order).toEqual(['w1', 'w2', 'w3', 'w1', 'w2', 'w3'])
  })

  it('queues requests in arrival order while no worker is idle', async () => {
    const { broker, frontend, backend } = await startBroker()
    const client = new NszClient(frontend)
    const replies = Array.from({ length: 20 }, (_, i) => client.call('default', String(i)))
    await queuedUpTo(broker, 20, 5000)
    const seen: string[] = []
    await startAgent(broker, backend, (job) => { seen.push(job.body[0]!.toString()); return job.body })
    await Promise.all(replies)
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i)))
  })

  it('answers 503 at once past maxQueue, and serves what it queued', async () => {
    const { broker, frontend, backend } = await startBroker({ maxQueue: 2 })
    const client = new NszClient(frontend)
    const first = client.call('default', 'a')
    const second = client.call('default', 'b')
    const third = await client.call('default', 'c')
    expect(third.status).toBe(Status.UNAVAILABLE)
    await startAgent(broker, backend, upper)
    expect((await first).status).toBe(200)
    expect(text((await second).body)).toEqual(['B'])
  })

  it('answers every one of 10 000 requests that arrive before any worker', async () => {
    // One client sends them all: its own limit is raised past maxQueue, which is what is tested.
    const { broker, frontend, backend } = await startBroker({ maxQueue: 10_000, maxQueuePerClient: 20_000 })
    const client = new NszClient(frontend)
    const replies: Promise<{ status: number }>[] = []
    for (let i = 0; i < 10_050; i++) replies.push(client.call('default', String(i)))
    await queuedUpTo(broker, 10_000, 10_000)
    for (let i = 0; i < 4; i++) await startAgent(broker, backend, (job) => job.body)
    const statuses = (await Promise.all(replies)).map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(10_000)
    expect(statuses.filter((s) => s === 503)).toHaveLength(50)
  })

  it('answers 413 for a body over maxMessageSize without forwarding it', async () => {
    const { broker, frontend, backend } = await startBroker({ maxMessageSize: 10 })
    let jobs = 0
    await startAgent(broker, backend, (job) => { jobs++; return job.body })
    const client = new NszClient(frontend)
    expect((await client.call('default', ['123456', '78901'])).status).toBe(Status.TOO_LARGE)
    expect((await client.call('default', ['12345', '67890'])).status).toBe(200)
    expect(jobs).toBe(1)
  })

  it('gives 20 concurrent clients of 200 requests each their own replies', async () => {
    const { broker, frontend, backend } = await startBroker()
    for (let i = 0; i < 4; i++) await startAgent(broker, backend, upper)
    const clients = Array.from({ length: 20 }, async (_, c) => {
      const socket = reqClient(frontend)
      for (let r = 0; r < 200; r++) {
        expect(await reqCall(socket, [`c${c}`, `r${r}`])).toEqual([`C${c}`, `R${r}`])
      }
    })
    await Promise.all(clients)
    expect(broker.stats().served).toBe(4000)
  })

  it('serves several services from workers that offer more than one', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => `${job.service}:${job.body[0]!.toString()}`, { services: ['a', 'b'] })
    const client = new NszClient(frontend)
    expect(text((await client.call('a', 'x')).body)).toEqual(['a:x'])
    expect(text((await client.call('b', 'y')).body)).toEqual(['b:y'])
    expect(broker.workers()[0]!.services).toEqual(['a', 'b'])
  })
})

describe('services no worker has offered', () => {
  it('queues them during the startup grace, then answers 404', async () => {
    const { frontend } = await startBroker({ serviceGrace: 200 })
    const client = new NszClient(frontend)
    const queued = client.call('nope', 'x')
    expect((await queued).status).toBe(Status.NO_SERVICE)
    expect((await client.call('nope', 'x')).status).toBe(Status.NO_SERVICE)
  })

  it('keeps queueing declared services and services a worker once offered', async () => {
    const { broker, frontend, backend } = await startBroker({ serviceGrace: 0, services: ['later'] })
    const client = new NszClient(frontend)
    const later = client.call('later', 'x')
    const agent = await startAgent(broker, backend, upper, { services: ['later', 'gone'] })
    expect((await later).status).toBe(200)
    const left = nextEvent(broker, 'workerGone')
    await agent.close()
    await left
    const gone = client.call('gone', 'y')
    await queuedUpTo(broker, 1, 5000)
    await startAgent(broker, backend, upper, { services: ['gone'] })
    expect(text((await gone).body)).toEqual(['Y'])
  })
})

describe('timeouts and lost workers', () => {
  it('answers 504 past jobTimeout, emits jobTimeout and drops the worker', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 200 })
    let release!: () => void
    const stuck = new Promise<void>((resolve) => { release = resolve })
    const agent = await startAgent(broker, backend, async () => { await stuck; return 'late' })
    const timedOut = nextEvent(broker, 'jobTimeout')
    const client = new NszClient(frontend)
    const reply = await client.call('default', 'x')
    expect(reply.status).toBe(Status.TIMEOUT)
    const [worker, jobId] = await timedOut
    expect(worker).toMatchObject({ pid: process.pid, state: 'busy' })
    expect(typeof jobId).toBe('number')
    expect(broker.workers().find((w) => w.id === worker.id)).toBeUndefined()
    // The late reply is dropped by the agent or the broker, never delivered.
    const dropped = Promise.race([nextEvent(agent, 'replyDropped'), nextEvent(broker, 'replyDropped')])
    release()
    await dropped
    expect(broker.stats().jobTimeouts).toBe(1)
  })

  it('answers 502 when a worker disconnects mid-job', async () => {
    const { raw, reply } = await rawWorkerWithJob()
    await raw.send(['', 'MDPW01', Buffer.from([Command.DISCONNECT])])
    expect((await reply).status).toBe(Status.WORKER_LOST)
  })

  it('gives the job that crossed an extended worker\'s DISCONNECT to another worker', async () => {
    const { broker, frontend, backend } = await startBroker()
    const leaving = new RawWorker(backend)
    await leaving.join(broker, 'default', { pid: 1001, services: [] })
    const client = new NszClient(frontend)
    const reply = client.call('default', 'x')
    const sent = await leaving.expect(Command.REQUEST)
    const gone = nextEvent(broker, 'workerGone')
    await leaving.send(['', 'MDPW01', Buffer.from([Command.DISCONNECT])])
    expect((await gone)[1]).toBe('disconnect')
    // Queued again, not answered: the next worker that joins runs it.
    expect(broker.stats().queued).toBe(1)
    const next = new RawWorker(backend)
    await next.join(broker, 'default', { pid: 1002, services: [] })
    const again = await next.expect(Command.REQUEST)
    expect(text(again.slice(5))).toEqual(['x'])
    expect(again[3]).toEqual(sent[3])
    await next.reply(again[3]!, 'X', Status.OK)
    const got = await reply
    expect(got.status).toBe(200)
    expect(text(got.body)).toEqual(['X'])
    expect(broker.stats().errors).toEqual({})
  })

  it('requeues a lost job once when asked, then answers 502', async () => {
    const { broker, frontend, backend } = await startBroker({ requeue: true })
    const raw1 = new RawWorker(backend)
    const raw2 = new RawWorker(backend)
    for (const raw of [raw1, raw2]) {
      await raw.join(broker)
    }
    const client = new NszClient(frontend)
    const reply = client.call('default', 'x')
    await raw1.expect(Command.REQUEST)
    await raw1.send(['', 'MDPW01', Buffer.from([Command.DISCONNECT])])
    const again = await raw2.expect(Command.REQUEST)
    expect(text(again.slice(5))).toEqual(['x'])
    await raw2.send(['', 'MDPW01', Buffer.from([Command.DISCONNECT])])
    expect((await reply).status).toBe(Status.WORKER_LOST)
    expect(broker.stats().requeued).toBe(1)
  })

  it('expires an idle worker that goes silent and sends it DISCONNECT', async () => {
    const { broker, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker, 'default')
    const gone = nextEvent(broker, 'workerGone', 3000)
    await raw.expect(Command.HEARTBEAT)
    await raw.expect(Command.DISCONNECT)
    const [worker, reason] = await gone
    expect(reason).toBe('expired')
    expect(worker.services).toEqual(['default'])
    expect(broker.stats().workers).toBe(0)
  })

  it('drops a REPLY for an unknown job id, never delivering it to another request', async () => {
    const { broker, frontend, backend } = await startBroker()
    const holder = new RawWorker(backend)
    await holder.join(broker, 'default', { pid: 4242, services: [] })
    const client = new NszClient(frontend)
    const reply = client.call('default', 'x')
    const request = await holder.expect(Command.REQUEST)
    const jobId = request[3]!
    // A stranger replays the job id: dropped, told to reconnect.
    const stranger = new RawWorker(backend)
    const dropped = nextEvent(broker, 'replyDropped')
    await stranger.reply(jobId, 'forged', 200)
    await stranger.expect(Command.DISCONNECT)
    await dropped
    await holder.reply(jobId, 'genuine', 200)
    const got = await reply
    expect(text(got.body)).toEqual(['genuine'])
    expect(broker.stats().repliesDropped).toBe(1)
  })

  it('drops a worker that replies for another job id, and answers its job 502', async () => {
    const { broker, raw, reply } = await rawWorkerWithJob()
    await raw.reply(Buffer.from([0, 0, 0, 0, 0, 99]), 'wrong')
    await raw.expect(Command.DISCONNECT)
    expect((await reply).status).toBe(Status.WORKER_LOST)
    expect(broker.stats()).toMatchObject({ repliesDropped: 1, workers: 0 })
  })
})

describe('the worker table', () => {
  it('reports busy workers and retires one after its reply', async () => {
    const { broker, frontend, backend } = await startBroker()
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    await startAgent(broker, backend, async (job) => { await held; return job.body }, { services: ['s1', 's2'] })
    const client = new NszClient(frontend)
    const busy = nextEvent(broker, 'workerBusy')
    const reply = client.call('s2', 'x')
    const [, jobId] = await busy
    const [worker] = broker.workers()
    expect(worker).toMatchObject({ pid: process.pid, services: ['s1', 's2'], state: 'busy', served: 0, extended: true })
    expect(worker!.jobStartedAt).toBeGreaterThanOrEqual(worker!.connectedAt)
    expect(typeof jobId).toBe('number')
    expect(broker.stats()).toMatchObject({ workers: 1, busyWorkers: 1, idleWorkers: 0, inFlight: 1, accepted: 1 })
    expect(broker.disconnectWorker(process.pid)).toBe(true)
    expect(broker.workers()[0]!.retiring).toBe(true)
    const gone = nextEvent(broker, 'workerGone')
    release()
    expect((await reply).status).toBe(200)
    const [info, reason] = await gone
    expect(reason).toBe('retired')
    expect(info.served).toBe(1)
    expect(broker.disconnectWorker('no-such-worker')).toBe(false)
  })
})

describe('stopping', () => {
  it('drain answers queued and new requests 503 and still forwards replies in flight', async () => {
    const { broker, frontend, backend } = await startBroker()
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    await startAgent(broker, backend, async (job) => { await held; return job.body })
    const client = new NszClient(frontend)
    const inFlight = client.call('default', 'first')
    const queued = [client.call('default', 'q1'), client.call('default', 'q2')]
    await queuedUpTo(broker, 2, 5000)
    const drained = broker.drain(5000)
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual([503, 503])
    expect((await client.call('default', 'new')).status).toBe(503)
    release()
    const first = await inFlight
    expect(first.status).toBe(200)
    expect(text(first.body)).toEqual(['first'])
    await drained
    expect(broker.stats().inFlight).toBe(0)
  })

  it('drain answers 503 for jobs still running at its timeout', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, () => new Promise(() => {}))
    const client = new NszClient(frontend)
    const busy = nextEvent(broker, 'workerBusy')
    const reply = client.call('default', 'x')
    await busy
    await broker.drain(100)
    expect((await reply).status).toBe(503)
    expect(broker.stats().workers).toBe(0)
  })

  it('close answers every queued and in-flight request 503 and leaves no timer', async () => {
    const timersBefore = countTimers()
    const { broker, raw, client, reply: inFlight } = await rawWorkerWithJob({ jobTimeout: 60_000 })
    const queued = client.call('default', 'y')
    await queuedUpTo(broker, 1, 5000)
    await broker.close()
    expect((await inFlight).status).toBe(503)
    expect((await queued).status).toBe(503)
    await raw.expect(Command.DISCONNECT)
    expect(broker.state).toBe('closed')
    expect(countTimers()).toBeLessThanOrEqual(timersBefore)
  })
})

/** Resolves once the broker has `n` requests waiting, checked on each `requestQueued`. */
function queuedUpTo (broker: Broker, n: number, ms = 5000): Promise<unknown> {
  if (broker.stats().queued >= n) return Promise.resolve()
  return nextEvent(broker, 'requestQueued', ms, () => broker.stats().queued >= n)
}

function countTimers (): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe('binding', () => {
  it('rejects a second bind and a bind to a taken port with their codes', async () => {
    const { broker, frontend } = await startBroker()
    await expect(broker.bind()).rejects.toMatchObject({ code: 'NSZ_ERR_BROKER_STATE' })
    const clash = new BrokerClass({ frontend })
    await expect(clash.bind()).rejects.toMatchObject({
      code: 'NSZ_ERR_BROKER_BIND',
      cause: expect.objectContaining({ code: 'EADDRINUSE' })
    })
    expect(clash.state).toBe('closed')
  })

  it('runs no timer with no worker once the startup grace is over', async () => {
    const timersBefore = countTimers()
    const { broker } = await startBroker({ serviceGrace: 0 })
    expect(broker.state).toBe('bound')
    expect(countTimers()).toBe(timersBefore)
  })
})

describe('a worker that leaves', () => {
  it('declines a job with 503: the job goes to another worker and the client gets its reply', async () => {
    const { broker, frontend, backend } = await startBroker()
    const leaving = new RawWorker(backend)
    await leaving.ready('default', { pid: 999_999, services: [] })
    await nextEvent(broker, 'workerReady')
    const client = new NszClient(frontend)
    const answer = client.call('default', 'job')
    const request = await leaving.expect(Command.REQUEST)
    // Another worker arrives while the first holds the job, then the first declines it.
    await startAgent(broker, backend, upper)
    await leaving.reply(request[3]!, [], Status.UNAVAILABLE)
    const reply = await answer
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual(['JOB'])
    // The decliner is leaving: it stays in the table, takes no new job, until its DISCONNECT.
    expect(broker.workers().find((w) => w.pid === 999_999)).toMatchObject({ retiring: true, jobs: 0 })
    expect(text((await client.call('default', 'next')).body)).toEqual(['NEXT'])
    const gone = nextEvent(broker, 'workerGone')
    await leaving.send(encodeDisconnect())
    expect((await gone)[1]).toBe('disconnect')
    expect(broker.workers().map((w) => w.pid)).not.toContain(999_999)
    expect(broker.stats().errors).toEqual({})
  })
})

describe('IPv6', () => {
  it('binds and serves on the IPv6 loopback', async () => {
    const { broker, frontend, backend } = await startBroker({ frontend: 'tcp://[::1]:*', backend: 'tcp://[::1]:*' })
    expect(frontend).toMatch(/^tcp:\/\/\[::1\]:\d+$/)
    await startAgent(broker, backend, upper)
    const client = new Client({ endpoint: frontend, timeout: 5000 })
    onTestFinished(() => { client.close() })
    expect(text(await client.request('default', 'six'))).toEqual(['SIX'])
  })
})

describe('guards', () => {
  it('closes sockets that were still binding when close() came', async () => {
    const broker = new BrokerClass({ frontend: 'tcp://127.0.0.1:*', backend: 'tcp://127.0.0.1:*' })
    const binding = broker.bind()
    await broker.close()
    await expect(binding).rejects.toMatchObject({ code: 'NSZ_ERR_BROKER_STATE' })
    expect(broker.state).toBe('closed')
  })

  it('refuses a job reply of 502 or 503, the statuses a leaving worker sends', async () => {
    const { broker, frontend, backend } = await startBroker()
    const refused: unknown[] = []
    await startAgent(broker, backend, (job) => {
      for (const status of [502, 503]) {
        try {
          job.reply(['busy'], status)
        } catch (err) {
          refused.push(err)
        }
      }
      return 'served'
    })
    const reply = await new NszClient(frontend).call('default', 'x')
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual(['served'])
    expect(refused).toHaveLength(2)
    expect(refused.every((e) => e instanceof RangeError)).toBe(true)
  })

  it('refuses timer durations that Node cannot hold', () => {
    expect(() => new BrokerClass({ jobTimeout: 2 ** 31 })).toThrow(new RangeError('options.jobTimeout must be at most 2147483647 ms, got 2147483648'))
    expect(() => new BrokerClass({ heartbeatInterval: 2 ** 31 })).toThrow(new RangeError('options.heartbeatInterval must be at most 2147483647 ms, got 2147483648'))
  })
})

describe('a worker stopping', () => {
  it('abandons the job in progress (502) when a fast close hurries a graceful one', async () => {
    const { broker, frontend, backend } = await startBroker()
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => { started = resolve })
    const agent = await startAgent(broker, backend, async () => {
      started()
      return await new Promise<never>(() => {})
    })
    const answer = new NszClient(frontend).call('default', 'forever')
    await running
    const graceful = agent.close({ graceful: true })
    await agent.close({ graceful: false })
    await graceful
    expect((await answer).status).toBe(Status.WORKER_LOST)
  })
})
