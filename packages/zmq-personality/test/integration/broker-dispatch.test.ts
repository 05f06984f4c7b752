import { describe, expect, it } from 'vitest'
import type { Router } from 'zeromq'
import { Broker, leastRecentlyUsed, zeromqSocketFactory, type DispatchPolicy, type DispatchWorker, type Job, type SocketFactory } from '@net-server/zmq'
import { nextEvent, text, within } from '@net-server/test-support'
import { NszClient, RawWorker, reqCall, reqClient, startAgent, startBroker } from '../support/broker.js'

const hex = (s: string): string => Buffer.from(s).toString('hex')

describe('a custom dispatch policy', () => {
  it('decides which ready worker takes each job: here always the one named "fav"', async () => {
    const favourite = (w: DispatchWorker): boolean => w.id.startsWith(hex('fav.'))
    const asked: number[] = []
    const onlyFavourite: DispatchPolicy = {
      pickWorker: (job, workers) => {
        asked.push(job.id)
        for (const w of workers) if (favourite(w)) return w
        return undefined
      },
      pickJob: (worker, services) => favourite(worker) ? leastRecentlyUsed.pickJob(worker, services) : undefined
    }
    const { broker, frontend, backend } = await startBroker({ dispatchPolicy: onlyFavourite })
    expect(broker.dispatchPolicy).toBe(onlyFavourite)
    await startAgent(broker, backend, () => 'other', { routingIdPrefix: 'one.' })
    await startAgent(broker, backend, () => 'fav', { routingIdPrefix: 'fav.' })
    await startAgent(broker, backend, () => 'other', { routingIdPrefix: 'two.' })
    const client = reqClient(frontend)
    const answers: string[] = []
    for (let i = 0; i < 5; i++) answers.push((await reqCall(client, 'who'))[0]!)
    expect(answers).toEqual(['fav', 'fav', 'fav', 'fav', 'fav'])
    expect(asked).toHaveLength(5)
    // Three at once: the favourite takes them one after the other; the others stay idle.
    const nsz = new NszClient(frontend)
    const replies = await Promise.all(['a', 'b', 'c'].map((body) => nsz.call('default', body)))
    expect(replies.map((r) => text(r.body)[0])).toEqual(['fav', 'fav', 'fav'])
    expect(broker.workers().filter((w) => w.served > 0).map((w) => w.id.slice(0, 8))).toEqual([hex('fav.')])
  })

  it('decides which waiting job a free worker takes: here the newest first', async () => {
    const newestFirst: DispatchPolicy = {
      pickWorker: (_job, workers) => workers.first(),
      pickJob: (_worker, [first]) => first?.waiting.at(first.waiting.length - 1)
    }
    const { broker, frontend, backend } = await startBroker({ dispatchPolicy: newestFirst })
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    const served: string[] = []
    await startAgent(broker, backend, async (job: Job) => {
      const body = job.body[0]!.toString()
      served.push(body)
      if (body === 'first') await gate
      return body
    })
    const client = new NszClient(frontend)
    const busy = nextEvent(broker, 'workerBusy')
    const replies = [client.call('default', 'first')]
    await busy
    const queued = nextEvent(broker, 'requestQueued', 5000, (_service: string, depth: number) => depth === 3)
    for (const body of ['a', 'b', 'c']) replies.push(client.call('default', body))
    await queued
    release()
    const bodies = (await Promise.all(replies)).map((r) => text(r.body)[0])
    expect(bodies).toEqual(['first', 'a', 'b', 'c'])
    expect(served).toEqual(['first', 'c', 'b', 'a'])
  })

  it('is overruled by the default policy, and reported, when it throws or answers what cannot be', async () => {
    let calls = 0
    const broken: DispatchPolicy = {
      pickWorker: () => {
        calls++
        if (calls % 2 === 1) throw new Error('policy bug')
        return { id: 'nobody', pid: undefined, services: [], slots: 1, freeSlots: 1, served: 0 }
      },
      pickJob: () => { throw new Error('policy bug') }
    }
    const { broker, frontend, backend } = await startBroker({ dispatchPolicy: broken })
    const errors: Error[] = []
    broker.on('error', (err) => { errors.push(err) })
    await startAgent(broker, backend, (job) => job.body)
    const client = reqClient(frontend)
    expect(await reqCall(client, 'one')).toEqual(['one'])
    expect(await reqCall(client, 'two')).toEqual(['two'])
    expect(errors.map((e) => e.message)).toEqual([
      'dispatchPolicy.pickWorker threw: ignored',
      'dispatchPolicy.pickWorker returned a worker that is not ready for service default: ignored'
    ])
    expect((errors[0]!.cause as Error).message).toBe('policy bug')
  })

  it('is refused at construction unless it has both methods', () => {
    expect(() => new Broker({ dispatchPolicy: { pickWorker: () => undefined } as unknown as DispatchPolicy }))
      .toThrow(/^options\.dispatchPolicy must be an object with pickWorker and pickJob methods/)
  })
})

describe('a REQUEST that libzmq refuses', () => {
  it('goes to another worker when the chosen one vanished unseen (EHOSTUNREACH)', async () => {
    // The broker's ROUTERs, kept so that the test sees when the backend loses a peer.
    const routers: Router[] = []
    const sockets: SocketFactory = {
      ...zeromqSocketFactory,
      router: (o) => { const r = zeromqSocketFactory.router(o); routers.push(r); return r }
    }
    // Heartbeats far apart: the broker learns of the loss only when it sends the job.
    const { broker, frontend, backend } = await startBroker({ heartbeatInterval: 60_000 }, sockets)
    const vanishing = new RawWorker(backend)
    const first = nextEvent(broker, 'workerReady')
    await vanishing.ready()
    const [vanished] = await first
    // Registered second: the least recently used policy offers the job to the first.
    await startAgent(broker, backend, () => 'served by the live worker')
    // Gone without DISCONNECT (a crash): the broker still lists it as ready.
    const lost = within(new Promise((resolve) => routers[1]!.events.on('disconnect', resolve)), 3000, 'the backend to see the worker disconnect')
    vanishing.socket.close()
    await lost
    expect(broker.stats().workers).toBe(2)
    const gone = nextEvent(broker, 'workerGone', 3000)
    const reply = await within(new NszClient(frontend).call('default', 'x'), 3000, 'the reply from the live worker')
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual(['served by the live worker'])
    const [worker, reason] = await gone
    expect(worker.id).toBe(vanished.id)
    expect(reason).toBe('unreachable')
    expect(broker.stats()).toMatchObject({ workers: 1, served: 1 })
    expect(broker.workers()).toMatchObject([{ served: 1 }])
    expect(broker.workers()[0]!.id).not.toBe(vanished.id)
  })
})
