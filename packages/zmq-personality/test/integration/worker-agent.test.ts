import { describe, expect, it, onTestFinished } from 'vitest'
import { Router } from 'zeromq'
import { Command, MDPW, NSZ_WORKER_EXTENSION, encodeAck, encodeDisconnect, encodeRequest } from '@net-server/client'
import { Broker, WorkerAgent } from '@net-server/zmq'
import { nextEvent, text, track } from '@net-server/test-support'
import { FAST, NszClient, reqCall, reqClient, startAgent, startBroker } from '../support/broker.js'

/** A bare ROUTER standing in for a broker, to script what the worker sees. */
async function fakeBroker (): Promise<{ router: Router, endpoint: string }> {
  const router = track(new Router({ receiveTimeout: 5000, linger: 0 }))
  await router.bind('tcp://127.0.0.1:*')
  return { router, endpoint: router.lastEndpoint! }
}

function agentFor (endpoint: string, options: Partial<ConstructorParameters<typeof WorkerAgent>[0]> = {}): WorkerAgent {
  const agent = new WorkerAgent({ ...FAST, reconnectInterval: 20, ...options, endpoint })
  onTestFinished(() => agent.close({ graceful: false }))
  return agent
}

/**
 * A broker bound on the endpoints another one just closed. libzmq releases a listening
 * port in its I/O thread, shortly after `close()` returns: on a loaded machine the
 * first bind may still find it taken, so each attempt is a fresh broker, for 5 s.
 */
async function rebind (make: () => Broker): Promise<Broker> {
  const deadline = Date.now() + 5000
  for (;;) {
    const broker = make()
    onTestFinished(() => broker.close())
    try {
      await broker.bind()
      return broker
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code !== 'EADDRINUSE' || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

describe('WorkerAgent', () => {
  it('announces its pid and services in READY', async () => {
    const { router, endpoint } = await fakeBroker()
    const agent = agentFor(endpoint, { services: ['a', 'b', 'c'] })
    await agent.connect()
    const [, ...ready] = text(await router.receive())
    expect(ready).toEqual(['', MDPW, '\x01', 'a', NSZ_WORKER_EXTENSION, String(process.pid), 'b', 'c'])
  })

  it('sends a plain MDP/0.1 READY without the extension', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, () => { throw new Error('plain') }, { extension: false })
    expect(broker.workers()[0]).toMatchObject({ extended: false, pid: undefined, services: ['default'] })
    // Without the extension there is no status frame: the failure travels in the body,
    // as the one frame a plain client of any broker reads as a failure.
    expect(await reqCall(reqClient(frontend), 'x')).toEqual(['ERROR 500 plain'])
  })

  it('speaks RFC 7 until the broker acknowledges the extension, and again on a new connection', async () => {
    const { router, endpoint } = await fakeBroker()
    const agent = agentFor(endpoint, { services: ['a', 'b'], reconnectInterval: 60_000, reconnectMaxInterval: 60_000 })
    await agent.connect()
    const [peer] = await router.receive()
    expect(agent.acknowledged).toBe(false)
    // Before an ACK: the job is for the READY service, a failure is the one ERROR body frame.
    await router.send([peer!, ...encodeRequest(Buffer.from('j1'), [Buffer.from('x')])])
    const plain = (await agent.next())!
    expect(plain.service).toBe('a')
    plain.reply('no such thing', 404)
    expect(text(await router.receive()).slice(1)).toEqual(['', MDPW, '\x03', 'j1', '', 'ERROR 404 no such thing'])
    // A REQUEST with a service frame before the ACK is not RFC 7: refused, not served.
    const refused = nextEvent(agent, 'protocolError')
    await router.send([peer!, ...encodeRequest(Buffer.from('j2'), [], 'b')])
    expect(await refused).toEqual(['REQUEST frame 5 must be empty'])
    // An ACK of another version of the extension is not ours: still plain.
    const foreign = nextEvent(agent, 'protocolError')
    await router.send([peer!, Buffer.alloc(0), Buffer.from(MDPW), Buffer.from([Command.ACK]), Buffer.from('NSZ9')])
    expect(await foreign).toEqual(['unexpected ACK from the broker'])
    expect(agent.acknowledged).toBe(false)
    await router.send([peer!, ...encodeAck({ later: 'ignored' })])
    await router.send([peer!, ...encodeRequest(Buffer.from('j3'), [], 'b')])
    const extended = (await agent.next())!
    expect(agent.acknowledged).toBe(true)
    expect(extended.service).toBe('b')
    extended.reply('why', 500)
    expect(text(await router.receive()).slice(1)).toEqual(['', MDPW, '\x03', 'j3', '500', 'why'])
    // A new connection starts plain again, until its own ACK.
    const again = nextEvent(agent, 'ready')
    await router.send([peer!, ...encodeDisconnect()])
    await again
    expect(agent.acknowledged).toBe(false)
  })

  it('reconnects with a new READY when the broker goes silent', async () => {
    const { router, endpoint } = await fakeBroker()
    const agent = agentFor(endpoint)
    await agent.connect()
    const first = await router.receive()
    const silent = nextEvent(agent, 'disconnected', 3000)
    const waiting = nextEvent(agent, 'reconnecting', 3000)
    expect(await silent).toEqual(['silence'])
    expect(await waiting).toEqual([20])
    // Heartbeats from the old connection may come first (each receive waits 5 s at most);
    // then READY, from a new peer.
    let msg = await router.receive()
    while (msg[3]![0] === Command.HEARTBEAT) msg = await router.receive()
    expect(msg[3]![0]).toBe(Command.READY)
    expect(msg[0]!.equals(first[0]!)).toBe(false)
  })

  it('re-registers at once after DISCONNECT on a working connection', async () => {
    const { router, endpoint } = await fakeBroker()
    const agent = agentFor(endpoint, { reconnectInterval: 60_000, reconnectMaxInterval: 60_000 })
    await agent.connect()
    const [peer] = await router.receive()
    await router.send([peer!, ...encodeAck()])
    await router.send([peer!, ...encodeRequest(Buffer.from('j1'), [Buffer.from('x')], 'default')])
    const job = await agent.next()
    expect(job).toMatchObject({ id: Buffer.from('j1').toString('hex'), service: 'default' })
    job!.reply('done')
    const reply = text(await router.receive())
    expect(reply.slice(1)).toEqual(['', MDPW, '\x03', 'j1', '200', 'done'])
    const again = nextEvent(agent, 'reconnecting')
    await router.send([peer!, ...encodeDisconnect()])
    expect(await again).toEqual([0])
    for (;;) {
      const msg = await router.receive()
      if (msg[3]![0] === Command.READY) break
    }
  })

  it('registers again after the broker restarts on the same endpoint', async () => {
    const first = new Broker({ ...FAST })
    const { backend, frontend } = await first.bind()
    const agent = agentFor(backend)
    const joined = nextEvent(first, 'workerReady')
    const serving = agent.serve((job) => job.body)
    await joined
    const rejoined = nextEvent(agent, 'ready', 5000)
    await first.close()
    const second = await rebind(() => new Broker({ ...FAST, frontend, backend }))
    const joinedAgain = nextEvent(second, 'workerReady', 5000)
    await rejoined
    await joinedAgain
    expect(await reqCall(reqClient(frontend), 'back')).toEqual(['back'])
    await agent.close()
    await serving
  })

  it('drops the reply of a job whose connection was lost, then sends READY again', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 100 })
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const agent = await startAgent(broker, backend, async () => { await held; return 'late' })
    const client = new NszClient(frontend)
    const disconnected = nextEvent(agent, 'disconnected')
    expect((await client.call('default', 'x')).status).toBe(504)
    await disconnected
    const dropped = nextEvent(agent, 'replyDropped')
    const back = nextEvent(broker, 'workerReady')
    release()
    await dropped
    await back
    expect(broker.stats().repliesDropped).toBe(0)
  })

  it('close waits for the job in progress, then leaves with DISCONNECT and no timer', async () => {
    const timersBefore = countTimers()
    const { broker, frontend, backend } = await startBroker()
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    let started!: () => void
    const running = new Promise<void>((resolve) => { started = resolve })
    const agent = await startAgent(broker, backend, async (job) => { started(); await held; return job.body })
    const client = new NszClient(frontend)
    const reply = client.call('default', 'last')
    await running
    const gone = nextEvent(broker, 'workerGone')
    const closed = agent.close()
    expect(await agent.next()).toBeUndefined()
    release()
    await closed
    const got = await reply
    expect(got.status).toBe(200)
    expect(text(got.body)).toEqual(['last'])
    expect((await gone)[1]).toBe('disconnect')
    expect(agent.state).toBe('closed')
    await broker.close()
    expect(countTimers()).toBe(timersBefore)
  })

  it('rejects a second connect and a second reply with their codes', async () => {
    const { router, endpoint } = await fakeBroker()
    const agent = agentFor(endpoint)
    await agent.connect()
    await expect(agent.connect()).rejects.toMatchObject({ code: 'NSZ_ERR_WORKER_STATE' })
    const [peer] = await router.receive()
    await router.send([peer!, ...encodeAck()])
    await router.send([peer!, ...encodeRequest(Buffer.from('j'), [], 'default')])
    const job = (await agent.next())!
    expect(job.reply('a')).toBe(true)
    expect(() => job.reply('b')).toThrow(expect.objectContaining({ code: 'NSZ_ERR_JOB_REPLIED' }))
  })

  it('rejects an endpoint that ZeroMQ refuses with NSZ_ERR_WORKER_CONNECT', async () => {
    const agent = agentFor('tcp://no-such-host-really.invalid:x')
    await expect(agent.connect()).rejects.toMatchObject({ code: 'NSZ_ERR_WORKER_CONNECT', cause: expect.objectContaining({ code: expect.any(String) }) })
  })
})

function countTimers (): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}
