import { describe, expect, it } from 'vitest'
import type { Dealer, Router } from 'zeromq'
import {
  Command, MDPW, NSZ_WORKER_EXTENSION, Status, decodeCompactMessage, encodeCompactHeartbeat, encodeCompactReply, encodeCredit, isCompact
} from '@net-server/client'
import { nextEvent, text, within } from '@net-server/test-support'
import { zeromqSocketFactory, type SocketFactory } from '@net-server/zmq'
import { NszClient, RawWorker, dealer, startAgent, startBroker } from '../support/broker.js'

// The compact framing rides on the capability exchange: the broker's ACK offers it, a
// worker takes it with a compact HEARTBEAT, and from then on REQUEST and REPLY are one
// header frame plus the body.

const EXTENSION = { pid: 4242, services: [] }

/** A raw extended worker that has read the ACK and, unless `take` is false, taken the offer. */
async function compactWorker (backend: string, broker: Parameters<RawWorker['join']>[0], take = true): Promise<RawWorker> {
  const raw = new RawWorker(backend)
  await raw.join(broker, 'default', EXTENSION)
  const ack = await raw.expect(Command.ACK)
  expect(text(ack.slice(3))).toEqual([NSZ_WORKER_EXTENSION, 'credit', '1024', 'framing', 'compact'])
  if (take) await takeOffer(raw, broker)
  return raw
}

/**
 * Sends the compact HEARTBEAT that takes the offer, and resolves once the broker has read
 * it: a CREDIT of one slot, sent after it on the same pipe, makes the idle worker's
 * `workerIdle` event.
 */
async function takeOffer (raw: RawWorker, broker: Parameters<RawWorker['join']>[0]): Promise<void> {
  const read = nextEvent(broker, 'workerIdle')
  await raw.send(encodeCompactHeartbeat() as Buffer[])
  await raw.send(encodeCredit(1))
  await read
}

/** The next message on a raw worker's socket that is not an MDP HEARTBEAT, within 3 s. */
async function nextNonHeartbeat (socket: Dealer): Promise<Buffer[]> {
  return await within((async () => {
    for (;;) {
      const msg = await socket.receive()
      if (!(msg[1]?.toString() === MDPW && msg[2]![0] === Command.HEARTBEAT)) return msg
    }
  })(), 3000, 'a message other than HEARTBEAT')
}

describe('the compact framing, at the broker', () => {
  it('carries a job both ways once the worker takes the offer: one header frame plus the body', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = await compactWorker(backend, broker)
    const client = new NszClient(frontend)
    const reply = client.call('default', ['a', 'b'])
    const request = await nextNonHeartbeat(raw.socket)
    expect(isCompact(request)).toBe(true)
    expect(request).toHaveLength(3)
    const decoded = decodeCompactMessage(request)
    expect(decoded).toMatchObject({ command: 'request', service: 'default' })
    expect(text((decoded as { body: Buffer[] }).body)).toEqual(['a', 'b'])
    const jobId = (decoded as { jobId: Buffer }).jobId
    expect(jobId).toHaveLength(8)
    await raw.send(encodeCompactReply(jobId, ['not', 'today'], Status.APP_ERROR))
    expect(await reply).toMatchObject({ status: Status.APP_ERROR, body: [Buffer.from('not'), Buffer.from('today')] })
    expect(broker.stats()).toMatchObject({ protocolErrors: 0, served: 1 })
  })

  it('is not used with a worker that did not take the offer, nor its MDP replies refused after it did', async () => {
    const { broker, frontend, backend } = await startBroker()
    const plain = await compactWorker(backend, broker, false)
    const client = new NszClient(frontend)
    const first = client.call('default', 'x')
    const request = await plain.expect(Command.REQUEST)
    expect(text(request.slice(4))).toEqual(['default', 'x'])
    // MDP/0.1 with the extension, as before the offer existed.
    await plain.reply(request[3]!, 'X', 201)
    expect(await first).toMatchObject({ status: 201 })
    // Taking it later works too; an MDP reply still decodes after that.
    await takeOffer(plain, broker)
    const second = client.call('default', 'y')
    const compact = decodeCompactMessage(await nextNonHeartbeat(plain.socket)) as { jobId: Buffer }
    await plain.reply(compact.jobId, 'Y', 200)
    expect(text((await second).body)).toEqual(['Y'])
    expect(broker.stats().protocolErrors).toBe(0)
  })

  it('is a protocol error from a plain MDP/0.1 worker, which is dropped and its job answered 502', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker)
    const reply = new NszClient(frontend).call('default', 'x')
    const request = await raw.expect(Command.REQUEST)
    const error = nextEvent(broker, 'protocolError')
    const gone = nextEvent(broker, 'workerGone')
    await raw.send([...encodeCompactReply(request[3]!, 'X', 200), Buffer.from('a'), Buffer.from('b')])
    expect((await error)[2]).toBe('missing empty delimiter frame')
    expect((await gone)[1]).toBe('protocol')
    expect((await reply).status).toBe(Status.WORKER_LOST)
  })

  it('refuses a malformed compact message from a worker that took it, naming the fault', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = await compactWorker(backend, broker)
    const reply = new NszClient(frontend).call('default', 'x')
    const { jobId } = decodeCompactMessage(await nextNonHeartbeat(raw.socket)) as { jobId: Buffer }
    const error = nextEvent(broker, 'protocolError')
    // A status of one byte only.
    await raw.send([Buffer.concat([Buffer.from([Command.REPLY, jobId.length]), jobId, Buffer.from([200])])])
    expect((await error)[2]).toBe('compact REPLY needs a 2-byte status')
    expect((await reply).status).toBe(Status.WORKER_LOST)
    expect(broker.stats().workers).toBe(0)
  })

  it('from a peer not in the pool (a worker of a broker that ran before) gets DISCONNECT, not a protocol error', async () => {
    const { broker, backend } = await startBroker()
    const stranger = dealer(backend)
    await stranger.send(encodeCompactHeartbeat() as Buffer[])
    expect(text(await nextNonHeartbeat(stranger))).toEqual(['', MDPW, '\x05'])
    expect(broker.stats().protocolErrors).toBe(0)
  })

  it('gives a compact REQUEST that libzmq refuses (the worker vanished) to another worker', async () => {
    const routers: Router[] = []
    const sockets: SocketFactory = { ...zeromqSocketFactory, router: (o) => { const r = zeromqSocketFactory.router(o); routers.push(r); return r } }
    const { broker, frontend, backend } = await startBroker({ heartbeatInterval: 60_000 }, sockets)
    const vanishing = await compactWorker(backend, broker)
    await startAgent(broker, backend, () => 'served by the live worker')
    const lost = within(new Promise((resolve) => routers[1]!.events.on('disconnect', resolve)), 3000, 'the backend to see the worker disconnect')
    vanishing.socket.close()
    await lost
    const gone = nextEvent(broker, 'workerGone', 3000)
    const reply = await new NszClient(frontend).call('default', 'x')
    expect(text(reply.body)).toEqual(['served by the live worker'])
    expect((await gone)[1]).toBe('unreachable')
  })
})

describe('the compact framing, at the WorkerAgent', () => {
  /** A socket factory whose DEALERs record every message they send. */
  function recording (): { sockets: SocketFactory, sent: Buffer[][] } {
    const sent: Buffer[][] = []
    const sockets: SocketFactory = {
      ...zeromqSocketFactory,
      dealer: (o) => {
        const socket = zeromqSocketFactory.dealer(o)
        const send = (msg: Buffer[]): Promise<void> => { sent.push(msg); return socket.send(msg) }
        // zeromq.js sockets are not extensible: a proxy records the sends, the socket does the rest.
        return new Proxy(socket, {
          get: (target, key) => {
            if (key === 'send') return send
            const value = Reflect.get(target, key) as unknown
            return typeof value === 'function' ? value.bind(target) : value
          },
          set: (target, key, value) => Reflect.set(target, key, value)
        })
      }
    }
    return { sockets, sent }
  }

  it('is taken by default: compact HEARTBEAT after the ACK, then compact replies', async () => {
    const { broker, frontend, backend } = await startBroker()
    const { sockets, sent } = recording()
    const agent = new (await import('@net-server/zmq')).WorkerAgent({ endpoint: backend, heartbeatInterval: 100 }, sockets)
    const joined = nextEvent(broker, 'workerReady')
    const serving = agent.serve((job) => job.body.map((f) => f.toString().toUpperCase()))
    await joined
    const client = new NszClient(frontend)
    expect(text((await client.call('default', 'abc')).body)).toEqual(['ABC'])
    await agent.close()
    await serving
    const compact = sent.filter(isCompact)
    expect(compact.map((m) => m[0]![0])).toContain(Command.HEARTBEAT)
    const replies = compact.filter((m) => m[0]![0] === Command.REPLY)
    expect(replies).toHaveLength(1)
    expect(replies[0]).toHaveLength(2)
    expect(decodeCompactMessage(replies[0]!)).toMatchObject({ command: 'reply', status: 200 })
  })

  it('is left with compactFraming false: MDP/0.1 frames with the extension', async () => {
    const { broker, frontend, backend } = await startBroker()
    const { sockets, sent } = recording()
    const agent = new (await import('@net-server/zmq')).WorkerAgent({ endpoint: backend, heartbeatInterval: 100, compactFraming: false }, sockets)
    const joined = nextEvent(broker, 'workerReady')
    const serving = agent.serve(() => 'ok')
    await joined
    expect(text((await new NszClient(frontend).call('default', 'x')).body)).toEqual(['ok'])
    await agent.close()
    await serving
    expect(sent.filter(isCompact)).toEqual([])
    const reply = sent.find((m) => m[2]?.[0] === Command.REPLY)
    expect(text(reply!.slice(4))).toEqual(['200', 'ok'])
  })
})
