import { describe, expect, it } from 'vitest'
import { Command, Status, encodeCredit, type NszReply } from '@net-server/client'
import { deferred, eventually, nextEvent, text } from '@net-server/test-support'
import { NszClient, RawWorker, startAgent, startBroker } from '../support/broker.js'

const EXTENSION = { pid: 4242, services: [] }

/** A raw extended worker in the broker's table, its ACK read. */
async function extendedWorker (backend: string, broker: Parameters<RawWorker['join']>[0]): Promise<RawWorker> {
  const raw = new RawWorker(backend)
  await raw.join(broker, 'default', EXTENSION)
  await raw.expect(Command.ACK)
  return raw
}

describe('slots and credit', () => {
  it('sends a worker as many jobs at once as its CREDIT says, and queues the rest', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = await extendedWorker(backend, broker)
    await raw.send(encodeCredit(3))
    await eventually(() => broker.workers()[0]?.slots === 3, 'the CREDIT to be read', 3000)
    const client = new NszClient(frontend)
    const replies = [1, 2, 3, 4].map(async (i) => await client.call('default', `job ${i}`))
    const requests = [await raw.expect(Command.REQUEST), await raw.expect(Command.REQUEST), await raw.expect(Command.REQUEST)]
    expect(requests.map((r) => text(r.slice(5)))).toEqual([['job 1'], ['job 2'], ['job 3']])
    expect(broker.workers()[0]).toMatchObject({ slots: 3, jobs: 3, state: 'busy' })
    expect(broker.stats()).toMatchObject({ queued: 1, inFlight: 3, slots: 3, slotsInUse: 3 })
    // A free slot takes the waiting job at once.
    await raw.reply(requests[1]![3]!, 'two', Status.OK)
    const fourth = await raw.expect(Command.REQUEST)
    expect(text(fourth.slice(5))).toEqual(['job 4'])
    for (const r of [requests[0]!, requests[2]!, fourth]) await raw.reply(r[3]!, 'done', Status.OK)
    expect((await Promise.all(replies)).map((r) => text(r.body))).toEqual([['done'], ['two'], ['done'], ['done']])
    expect(broker.stats().errors).toEqual({})
  })

  it('gives a job declined past a lowered credit to another worker, and keeps the decliner in the pool', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = await extendedWorker(backend, broker)
    await raw.send(encodeCredit(2))
    await eventually(() => broker.workers()[0]?.slots === 2, 'the CREDIT to be read', 3000)
    const client = new NszClient(frontend)
    const first = client.call('default', 'first')
    const second = client.call('default', 'second')
    const a = await raw.expect(Command.REQUEST)
    const b = await raw.expect(Command.REQUEST)
    const release = deferred()
    await startAgent(broker, backend, async (job) => { await release.promise; return ['agent', ...job.body] })
    // One slot now: the second job is over the credit, and the worker declines it.
    await raw.send(encodeCredit(1))
    await eventually(() => broker.workers().find((w) => w.pid === 4242)?.slots === 1, 'the lower CREDIT to be read', 3000)
    await raw.reply(b[3]!, [], Status.UNAVAILABLE)
    release.resolve()
    expect(text((await second).body)).toEqual(['agent', 'second'])
    expect(broker.workers().find((w) => w.pid === 4242)).toMatchObject({ retiring: false, slots: 1, jobs: 1 })
    await raw.reply(a[3]!, 'kept', Status.OK)
    expect(text((await first).body)).toEqual(['kept'])
    expect(broker.stats()).toMatchObject({ errors: {}, declines: 1, requeued: 0 })
  })

  it('takes no new job to a worker with CREDIT 0, and sends it jobs again once it raises its credit', async () => {
    const { broker, frontend, backend } = await startBroker()
    const raw = await extendedWorker(backend, broker)
    await raw.send(encodeCredit(0))
    await eventually(() => broker.workers()[0]?.slots === 0, 'the CREDIT 0 to be read', 3000)
    const client = new NszClient(frontend)
    const reply: Promise<NszReply> = client.call('default', 'waits')
    await expectQueued(broker, 1)
    await raw.send(encodeCredit(1))
    const request = await raw.expect(Command.REQUEST)
    await raw.reply(request[3]!, 'now', Status.OK)
    expect(text((await reply).body)).toEqual(['now'])
  })

  it('follows a WorkerAgent\'s setSlots: CREDIT to the broker each time, and a RangeError past its concurrency', async () => {
    const { broker, backend } = await startBroker()
    const agent = await startAgent(broker, backend, () => 'ok', { concurrency: 4 })
    await eventually(() => broker.workers()[0]?.slots === 4, 'the agent\'s 4 slots', 3000)
    agent.setSlots(2)
    await eventually(() => broker.workers()[0]?.slots === 2, 'the lowered credit', 3000)
    expect(agent.slots).toBe(2)
    expect(() => { agent.setSlots(5) }).toThrow(new RangeError('slots must be an integer from 0 to options.concurrency (4), not 5'))
    expect(() => { agent.setSlots(-1) }).toThrow(RangeError)
  })

  it.each([
    ['a plain MDP/0.1 worker', undefined, encodeCredit(2), 'CREDIT from a worker that did not announce the extension'],
    ['past 1024 slots', EXTENSION, [Buffer.from(''), Buffer.from('MDPW01'), Buffer.from([Command.CREDIT]), Buffer.from('1025')], 'CREDIT needs one frame with the slots, an integer from 0 to 1024']
  ])('drops a worker that sends CREDIT as %s, with a protocol error that says why', async (_, extension, credit, why) => {
    const { broker, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker, 'default', extension)
    const error = nextEvent(broker, 'protocolError')
    const gone = nextEvent(broker, 'workerGone')
    await raw.send(credit)
    expect((await error)[2]).toBe(why)
    expect((await gone)[1]).toBe('protocol')
    await raw.expect(Command.DISCONNECT)
  })
})

/** Resolves once `n` jobs wait in the broker's queues. */
async function expectQueued (broker: Parameters<RawWorker['join']>[0], n: number): Promise<void> {
  if (broker.stats().queued === n) return
  await nextEvent(broker, 'requestQueued', 3000, () => broker.stats().queued === n)
}
