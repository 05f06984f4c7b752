import { describe, expect, it, onTestFinished } from 'vitest'
import { Dealer, type Router } from 'zeromq'
import { Command, Status, decodeNszReply, encodeNszRequest, isDecodeError } from '@net-server/client'
import { b, deferred, eventually, nextEvent, text, track, within } from '@net-server/test-support'
import { Broker, zeromqSocketFactory, type BrokerOptions, type Job, type LossKind } from '@net-server/zmq'
import { FAST, NszClient, RawWorker, dealer, politeClients, reqCall, reqClient, startAgent, startBroker } from '../support/broker.js'

/** Resolves once the broker has `n` requests waiting. */
function queuedUpTo (broker: Broker, n: number, ms = 10_000): Promise<unknown> {
  if (broker.stats().queued >= n) return Promise.resolve()
  return nextEvent(broker, 'requestQueued', ms, () => broker.stats().queued >= n)
}

/** A job that takes a little while, as real work does: a flood then outlasts the polite clients by far. */
const slowEcho = async (job: Job): Promise<Buffer[]> => {
  await new Promise((resolve) => setTimeout(resolve, 2))
  return job.body
}

/** A broker whose frontend ROUTER the test can watch (its `disconnect` events). */
async function watchedBroker (options: BrokerOptions): Promise<{ broker: Broker, frontend: string, backend: string, router: Router }> {
  const routers: Router[] = []
  const broker = new Broker({ ...FAST, ...options }, {
    ...zeromqSocketFactory,
    router: (o) => {
      const r = zeromqSocketFactory.router(o)
      routers.push(r)
      return r
    }
  })
  onTestFinished(() => broker.close())
  const { frontend, backend } = await broker.bind()
  return { broker, frontend, backend, router: routers[0]! }
}

describe('fairness under a flood', () => {
  it('serves polite REQ clients within a bound while one DEALER floods with 5 000 requests', async () => {
    const { broker, frontend, backend } = await startBroker()
    for (let i = 0; i < 2; i++) await startAgent(broker, backend, slowEcho)
    // Five times its queue's bound (maxQueuePerClient, 1000): most of the flood is refused.
    // The flood, the broker and the workers share this one process, so a larger one
    // measures the machine's spare CPU, not the broker's fairness.
    const FLOOD = 5000
    const flood = dealer(frontend)
    // A busy machine may keep the flood's replies back for seconds: the deadline below
    // bounds the whole exchange instead of each receive.
    flood.receiveTimeout = -1
    const statuses: Record<number, number> = {}
    let answered = 0
    const reading = (async () => {
      for await (const msg of flood) {
        const reply = decodeNszReply(msg)
        if (isDecodeError(reply)) throw new Error(reply.error)
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1
        if (++answered === FLOOD) return
      }
    })()
    const sending = (async () => {
      for (let i = 0; i < FLOOD; i++) await flood.send(encodeNszRequest('default', b(String(i)), 'flood'))
    })()
    await queuedUpTo(broker, 500)

    const latencies = await politeClients(frontend, 6, 10, (body) => [body])
    // The flood is still under way: its requests wait, and it has more to send or read.
    expect(broker.stats().queued).toBeGreaterThan(0)
    expect(answered).toBeLessThan(FLOOD)
    expect(latencies).toHaveLength(60)
    // In turn, each polite request waits for about one job per client; behind the
    // flood's queue it would wait for a thousand.
    expect(Math.max(...latencies)).toBeLessThan(1000)

    await within(Promise.all([sending, reading]), 20_000, 'every flood request answered')
    // Past its own limit, the flood got 503 at once; what it queued was served.
    expect(statuses[Status.UNAVAILABLE]).toBeGreaterThan(0)
    expect((statuses[Status.OK] ?? 0) + statuses[Status.UNAVAILABLE]!).toBe(FLOOD)
    expect(broker.stats().losses.refused.clientLimit).toBe(statuses[Status.UNAVAILABLE])
  })

  it('answers 503 saying why past maxQueuePerClient, while other clients still queue', async () => {
    const { broker, frontend, backend } = await startBroker({ maxQueuePerClient: 2 })
    const losses: LossKind[] = []
    broker.on('loss', (kind) => { losses.push(kind) })
    const greedy = new NszClient(frontend)
    const queued = [greedy.call('default', 'a'), greedy.call('default', 'b')]
    await queuedUpTo(broker, 2)
    const refused = await greedy.call('default', 'c')
    expect(refused.status).toBe(Status.UNAVAILABLE)
    expect(text(refused.body)[0]).toMatch(/^this client has 2 requests waiting already \(maxQueuePerClient\)$/)
    // A plain REQ client over its limit reads the reason in its one ERROR frame.
    const req = reqClient(frontend)
    const other = reqCall(req, 'mine')
    await queuedUpTo(broker, 3)
    expect(broker.stats().losses.refused.clientLimit).toBe(1)
    expect(losses).toEqual(['refused:clientLimit'])
    await startAgent(broker, backend, (job) => job.body)
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200])
    expect(await other).toEqual(['mine'])
  })
})

describe('bounded state from peers', () => {
  it('answers 503 "waited too long" when a request passes queueTimeout, in every dialect', async () => {
    const { broker, frontend } = await startBroker({ queueTimeout: 200 })
    const client = new NszClient(frontend)
    const started = performance.now()
    const [nsz, req] = await Promise.all([client.call('default', 'x'), reqCall(reqClient(frontend), 'y')])
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    expect(nsz.status).toBe(Status.UNAVAILABLE)
    expect(text(nsz.body)[0]).toMatch(/^the request waited too long: 200 ms for a worker of service default \(queueTimeout\)$/)
    expect(req).toEqual(['ERROR 503 the request waited too long: 200 ms for a worker of service default (queueTimeout)'])
    expect(broker.stats()).toMatchObject({ queued: 0, errors: { 503: 2 } })
    expect(broker.stats().losses.refused.queueTimeout).toBe(2)
  })

  it('drops the waiting requests of a client that has gone once a reply to it fails', async () => {
    const { broker, frontend, backend, router } = await watchedBroker({})
    const gate = deferred()
    let jobs = 0
    await startAgent(broker, backend, async (job) => {
      if (++jobs === 1) await gate.promise
      return job.body
    })
    const leaving = dealer(frontend)
    const busy = nextEvent(broker, 'workerBusy')
    for (let i = 0; i < 5; i++) await leaving.send(encodeNszRequest('default', b(String(i)), 'x'))
    await busy
    await queuedUpTo(broker, 4)
    const polite = new NszClient(frontend)
    const politeReply = polite.call('default', 'still here')
    await queuedUpTo(broker, 5)
    const disconnected = new Promise((resolve) => { router.events.on('disconnect', resolve) })
    leaving.close()
    await within(disconnected, 5000, 'the frontend seeing the client go')
    const gone = nextEvent(broker, 'clientGone', 5000)
    gate.resolve()
    const [clientId, code] = await gone
    expect(code).toBe('EHOSTUNREACH')
    expect(clientId).toMatch(/^[0-9a-f]+$/)
    expect((await politeReply).status).toBe(200)
    await eventually(() => broker.stats().queued === 0 && broker.stats().inFlight === 0, 'the queue empty', 5000)
    // At most one of its requests went to the worker before the broker could tell.
    const { clientGone } = broker.stats().losses.refused
    expect(clientGone).toBeGreaterThanOrEqual(3)
    expect(clientGone + jobs).toBe(6)
    expect(broker.stats().losses.undelivered.unreachable).toBeGreaterThanOrEqual(1)
  })

  it('refuses a READY over maxServicesPerWorker or maxServices with DISCONNECT, and forgets services no worker offers', async () => {
    const { broker, frontend, backend } = await startBroker({ maxServicesPerWorker: 3, maxServices: 4, serviceGrace: 0 })
    const losses: string[] = []
    broker.on('loss', (kind, _peer, detail) => { losses.push(`${kind} ${detail}`) })
    const greedy = new RawWorker(backend)
    await greedy.ready('a', { pid: 1, services: ['b', 'c', 'd'] })
    await greedy.expect(Command.DISCONNECT)
    expect(losses).toEqual(['registrationRefused:tooManyServices READY for 4 services, over maxServicesPerWorker (3)'])

    // The broker knows `default`; two workers add three services, a third finds no room.
    await startAgent(broker, backend, (job) => job.body, { services: ['k'] })
    const passing = new RawWorker(backend)
    await passing.join(broker, 'x', { pid: 2, services: ['y'] })
    expect(broker.stats().services).toBe(4)
    const late = new RawWorker(backend)
    await late.ready('z')
    await late.expect(Command.DISCONNECT)
    expect(losses.at(-1)).toBe('registrationRefused:serviceTableFull READY for 1 new services: the broker knows 4, maxServices is 4')
    expect(broker.stats().losses.registrationsRefused).toMatchObject({ tooManyServices: 1, serviceTableFull: 1 })
    expect(broker.workers()).toHaveLength(2)

    // The passing worker leaves: its services are forgotten after a heartbeat liveness.
    const left = nextEvent(broker, 'workerGone')
    await passing.send(['', 'MDPW01', Buffer.from([Command.DISCONNECT])])
    await left
    await eventually(() => broker.stats().services === 2, 'x and y forgotten', 5000)
    const client = new NszClient(frontend)
    expect((await client.call('x', 'q')).status).toBe(Status.NO_SERVICE)
    // Room again: the late worker may join now.
    await late.join(broker, 'z')
    expect(broker.workers()).toHaveLength(2)
  })

  it('gives the worker job ids that tell nothing of each other', async () => {
    const { broker, frontend, backend } = await startBroker()
    const ids: string[] = []
    await startAgent(broker, backend, (job) => { ids.push(job.id); return job.body })
    const client = new NszClient(frontend)
    for (let i = 0; i < 20; i++) await client.call('default', 'x')
    expect(new Set(ids).size).toBe(20)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/)
    // Not a counter: consecutive ids do not differ by one.
    const steps = ids.slice(1).map((id, i) => BigInt(`0x${id}`) - BigInt(`0x${ids[i]!}`))
    expect(steps.filter((d) => d === 1n)).toHaveLength(0)
  })
})

describe('memory under a client that does not read', () => {
  it('holds at most maxClientBuffer bytes for it, drops the rest, serves the others, and frees it all when it goes', async () => {
    const BUDGET = 1024 * 1024
    const { broker, frontend, backend } = await startBroker({ maxClientBuffer: BUDGET })
    const big = Buffer.alloc(64 * 1024, 0x61)
    await startAgent(broker, backend, () => big)
    const overBudget = nextEvent(broker, 'loss', 20_000, (kind: LossKind) => kind === 'undelivered:overBudget')
    // A client that never reads, with small buffers of its own.
    const sleeper = track(new Dealer({ linger: 0, receiveHighWaterMark: 4 }))
    sleeper.connect(frontend)
    const REQUESTS = 600
    for (let i = 0; i < REQUESTS; i++) await sleeper.send(encodeNszRequest('default', b(String(i)), 'x'))
    await overBudget
    await eventually(() => broker.stats().served === REQUESTS, 'every request answered by the worker', 20_000)
    const stats = broker.stats()
    expect(stats.heldBytes).toBeGreaterThan(0)
    expect(stats.heldBytes).toBeLessThanOrEqual(BUDGET)
    expect(stats.slowClients).toBe(1)
    expect(stats.losses.undelivered.overBudget).toBeGreaterThan(0)
    // Others are served meanwhile.
    expect(await reqCall(reqClient(frontend), 'hello')).toEqual([big.toString('latin1')])
    // It goes: what was held for it is dropped, the memory comes back.
    sleeper.close()
    await eventually(() => broker.stats().heldBytes === 0 && broker.stats().slowClients === 0, 'the held replies dropped', 10_000)
    expect(broker.stats().losses.undelivered.unreachable).toBeGreaterThan(0)
  })
})
