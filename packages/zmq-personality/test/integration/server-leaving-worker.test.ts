import { describe, expect, it } from 'vitest'
import { Command, Status, encodeDisconnect } from '@net-server/client'
import type { Job } from '@net-server/zmq'
import { nextEvent, text, within } from '@net-server/test-support'
import { NszClient, RawWorker, startAgent, startBroker } from '../support/broker.js'

// What ZmqServer asks of the broker for a child it tells to stop:
// disconnectWorker(pid, { wait: true }).
const upper = (job: Job): string[] => job.body.map((f) => f.toString().toUpperCase())

describe('a worker told to leave (disconnectWorker with wait)', () => {
  it('gets no DISCONNECT and no more jobs, and leaves with its own DISCONNECT', async () => {
    const { broker, frontend, backend } = await startBroker()
    const leaving = new RawWorker(backend)
    await leaving.ready('default', { pid: 999_001, services: [] })
    await nextEvent(broker, 'workerReady')
    expect(broker.disconnectWorker(999_001, { wait: true })).toBe(true)
    expect(broker.workers()).toMatchObject([{ pid: 999_001, state: 'idle', retiring: true }])
    // The request waits for another worker instead of going to the leaving one.
    const client = new NszClient(frontend)
    const queued = nextEvent(broker, 'requestQueued')
    const answer = client.call('default', 'job')
    await queued
    await startAgent(broker, backend, upper)
    const reply = await answer
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual(['JOB'])
    // It hears the ACK of its extension (sent at READY), then heartbeats only, and
    // leaves by itself.
    const ack = await within(leaving.socket.receive(), 2000, 'the ACK to the leaving worker')
    expect(ack[2]![0]).toBe(Command.ACK)
    const heard = await within(leaving.socket.receive(), 2000, 'a message to the leaving worker')
    expect(heard[2]![0]).toBe(Command.HEARTBEAT)
    const gone = nextEvent(broker, 'workerGone', 2000, (w: { pid?: number }) => w.pid === 999_001)
    await leaving.send([...encodeDisconnect()])
    expect((await gone)[1]).toBe('disconnect')
    expect(broker.stats().errors).toEqual({})
  })

  it('finishes the job it holds, and a job that crossed its DISCONNECT goes to another worker', async () => {
    const { broker, frontend, backend } = await startBroker()
    const leaving = new RawWorker(backend)
    await leaving.ready('default', { pid: 999_002, services: [] })
    await nextEvent(broker, 'workerReady')
    const client = new NszClient(frontend)
    const first = client.call('default', 'one')
    const request = await leaving.expect(Command.REQUEST)
    broker.disconnectWorker(999_002, { wait: true })
    // The job it holds is answered as usual.
    await leaving.reply(request[3]!, ['done'], Status.OK)
    expect(text((await first).body)).toEqual(['done'])
    expect(broker.workers()).toMatchObject([{ pid: 999_002, state: 'idle', retiring: true }])

    // Now a job reaches it before the broker is told, and its DISCONNECT crosses it.
    const second = new RawWorker(backend)
    await second.ready('default', { pid: 999_003, services: [] })
    await nextEvent(broker, 'workerReady')
    const answer = client.call('default', 'two')
    await second.expect(Command.REQUEST)
    broker.disconnectWorker(999_003, { wait: true })
    await second.send([...encodeDisconnect()])
    await startAgent(broker, backend, upper)
    const reply = await answer
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual(['TWO'])
    expect(broker.stats().errors).toEqual({})
  })
})
