import { describe, expect, it } from 'vitest'
import { Command, MDPC, MDPW, NSZC, encodeReady } from '@net-server/client'
import type { Broker } from '@net-server/zmq'
import { nextEvent, text } from '@net-server/test-support'
import { RawWorker, dealer, reqCall, reqClient, startAgent, startBroker } from '../support/broker.js'

const cmd = (c: number) => Buffer.from([c])

/** The broker still serves a plain REQ request after the bad input. */
async function stillServes (broker: Broker, frontend: string, backend: string): Promise<void> {
  if (broker.stats().idleWorkers === 0) await startAgent(broker, backend, (job) => job.body)
  expect(await reqCall(reqClient(frontend), 'still here')).toEqual(['still here'])
}

describe('malformed client requests', () => {
  it.each([
    ['a lone empty frame', [''], 'no body after the empty delimiter'],
    ['a missing delimiter', ['hello'], 'missing empty delimiter frame'],
    ['a missing delimiter before a header', [MDPC, 'echo', 'x'], 'missing empty delimiter frame'],
    ['an MDP request without service', ['', MDPC], 'needs a service frame'],
    ['a project request without request id', ['', NSZC, 'svc'], 'needs service and request id'],
    ['a project request with an empty request id', ['', NSZC, 'svc', ''], 'request id frame is empty']
  ])('answers %s with 400 in plain REQ framing and keeps serving', async (_, frames, reason) => {
    const { broker, frontend, backend } = await startBroker()
    const client = dealer(frontend)
    const failed = nextEvent(broker, 'protocolError')
    await client.send(frames)
    const reply = text(await client.receive())
    expect(reply[0]).toBe('')
    expect(reply[1]).toMatch(/^ERROR 400 /)
    expect(reply[1]).toContain(reason)
    const [side] = await failed
    expect(side).toBe('frontend')
    expect(broker.stats().errors[400]).toBe(1)
    await stillServes(broker, frontend, backend)
  })
})

describe('malformed or misplaced worker messages', () => {
  it.each([
    ['too few frames', ['', MDPW]],
    ['a missing delimiter', ['x', MDPW, cmd(Command.READY), 'svc']],
    ['an unknown protocol header', ['', 'MDPW02', cmd(Command.READY), 'svc']],
    ['an unknown command', ['', MDPW, cmd(0x09)]],
    ['a two-byte command', ['', MDPW, Buffer.from([1, 1]), 'svc']],
    ['a READY without service', ['', MDPW, cmd(Command.READY)]],
    ['a READY for an MMI service', encodeReady('mmi.service')],
    ['a READY extension without pid', ['', MDPW, cmd(Command.READY), 'svc', 'NSZ1', 'abc']],
    ['a HEARTBEAT before READY', ['', MDPW, cmd(Command.HEARTBEAT)]],
    ['a REPLY before READY', ['', MDPW, cmd(Command.REPLY), Buffer.alloc(6), '', 'x']]
  ])('answers a stranger sending %s with DISCONNECT and keeps serving', async (_, frames) => {
    const { broker, frontend, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.send(frames)
    await raw.expect(Command.DISCONNECT)
    expect(broker.stats().workers).toBe(0)
    await stillServes(broker, frontend, backend)
  })

  it.each([
    ['a second READY', encodeReady('default')],
    ['a REPLY while it holds no job', ['', MDPW, cmd(Command.REPLY), Buffer.alloc(6), '', 'x']],
    ['a REQUEST', ['', MDPW, cmd(Command.REQUEST), Buffer.alloc(6), '', 'x']],
    ['an extended REPLY without status', ['', MDPW, cmd(Command.REPLY), Buffer.alloc(6), '', 'x']],
    ['garbage', ['', MDPW, cmd(0x7f)]]
  ])('drops a registered worker that sends %s', async (name, frames) => {
    const { broker, frontend, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker, 'default', name.startsWith('an extended') ? { pid: 77, services: [] } : undefined)
    const gone = nextEvent(broker, 'workerGone')
    await raw.send(frames)
    await raw.expect(Command.DISCONNECT)
    const [, reason] = await gone
    expect(reason).toBe('protocol')
    expect(broker.stats().protocolErrors).toBe(1)
    await stillServes(broker, frontend, backend)
  })

  it('tells a dropped worker that keeps talking to reconnect', async () => {
    const { broker, backend } = await startBroker()
    const raw = new RawWorker(backend)
    await raw.join(broker)
    expect(broker.disconnectWorker(broker.workers()[0]!.id)).toBe(true)
    await raw.expect(Command.DISCONNECT)
    await raw.send(['', MDPW, cmd(Command.HEARTBEAT)])
    await raw.expect(Command.DISCONNECT)
    // A fresh READY is welcome again.
    const rejoined = nextEvent(broker, 'workerReady')
    await raw.ready()
    await rejoined
    expect(broker.stats().workers).toBe(1)
  })
})
