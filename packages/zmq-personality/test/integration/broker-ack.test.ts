import { describe, expect, it } from 'vitest'
import { Command, NSZ_WORKER_EXTENSION, Status, encodeDisconnect, encodeHeartbeat } from '@net-server/client'
import { nextEvent, text } from '@net-server/test-support'
import { NszClient, RawWorker, reqCall, reqClient, startAgent, startBroker } from '../support/broker.js'

// The one capability exchange: a worker announces the extension in READY, the broker
// answers with ACK (to that worker only, before any REQUEST), and only then does the
// worker put a status in REPLY frame 5.

const EXTENSION = { pid: 4242, services: ['more'] }

describe('the broker\'s ACK', () => {
  it('goes to a worker that announced the extension, before its first REQUEST', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker, 'default', EXTENSION)
    const client = new NszClient(frontend)
    const reply = client.call('more', 'x')
    // Its parameters: the broker takes CREDIT, up to 1024 slots per worker, and offers the compact framing.
    expect(text(await raw.socket.receive())).toEqual(['', 'MDPW01', '\x06', NSZ_WORKER_EXTENSION, 'credit', '1024', 'framing', 'compact'])
    const request = await raw.expect(Command.REQUEST)
    // Acknowledged: frame 5 names the service, and the REPLY carries a status.
    expect(text(request.slice(4))).toEqual(['more', 'x'])
    await raw.reply(request[3]!, 'not today', Status.APP_ERROR)
    expect(await reply).toMatchObject({ status: Status.APP_ERROR, body: [Buffer.from('not today')] })
    expect(broker.stats().protocolErrors).toBe(0)
  })

  it('never goes to a plain MDP/0.1 worker, which gets RFC 7 frames alone', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker)
    const reply = reqCall(reqClient(frontend), 'x')
    // Everything up to the REQUEST: heartbeats at most, no ACK.
    const seen: number[] = []
    let msg: Buffer[]
    while ((msg = await raw.socket.receive())[2]![0] !== Command.REQUEST) seen.push(msg[2]![0]!)
    expect(seen.filter((c) => c !== Command.HEARTBEAT)).toEqual([])
    expect(text(msg.slice(4))).toEqual(['', 'x'])
    await raw.reply(msg[3]!, 'X')
    expect(await reply).toEqual(['X'])
  })

  it('is not needed for heartbeats and DISCONNECT: a worker may send them before it reads the ACK', async () => {
    const { broker, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker, 'default', EXTENSION)
    await raw.send(encodeHeartbeat() as Buffer[])
    const gone = nextEvent(broker, 'workerGone')
    await raw.send(encodeDisconnect() as Buffer[])
    expect((await gone)[1]).toBe('disconnect')
    expect(broker.stats().protocolErrors).toBe(0)
  })

  it('lets the project\'s WorkerAgent use the extension: services and statuses', async () => {
    const { broker, frontend, backend } = await startBroker()
    const agent = await startAgent(broker, backend, (job) => {
      if (job.body[0]?.toString() === 'fail') throw new Error('no luck')
      return [job.service, ...job.body]
    }, { services: ['a', 'b'] })
    const client = new NszClient(frontend)
    const ok = await client.call('b', 'x')
    expect(agent.acknowledged).toBe(true)
    expect(ok.status).toBe(200)
    expect(text(ok.body)).toEqual(['b', 'x'])
    const failed = await client.call('a', 'fail')
    expect(failed.status).toBe(Status.APP_ERROR)
    expect(text(failed.body)).toEqual(['no luck'])
    expect(broker.workers()[0]).toMatchObject({ extended: true, pid: process.pid, services: ['a', 'b'] })
  })

  it('is refused from a worker: the broker alone sends it', async () => {
    const { broker, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker, 'default', EXTENSION)
    const error = nextEvent(broker, 'protocolError')
    await raw.send(['', 'MDPW01', Buffer.from([Command.ACK]), NSZ_WORKER_EXTENSION])
    expect((await error)[2]).toBe('ACK is not a worker command')
  })
})
