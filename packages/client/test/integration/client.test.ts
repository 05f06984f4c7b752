import { performance } from 'node:perf_hooks'
import { curveKeyPair, Router } from 'zeromq'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ClientErrorCode, NSZC, Status, decodeClientRequest, encodeClientReply, isClientError, isDecodeError, type ClientErrorCodeValue } from '@net-server/client'
import { deadEndpoint, rejection, text } from '@net-server/test-support'
import { pipelinedClient } from '../support/clients.js'
import { STATUS_ERRORS, startBroker, type Received } from '../support/fake-broker.js'

const requestId = (r: Received) => (r.request as { requestId: Buffer }).requestId

describe('Client', () => {
  it('sends a request in the NSZC01 dialect and resolves with the body', async () => {
    const broker = await startBroker()
    const client = pipelinedClient({ endpoint: broker.endpoint })
    expect(text(await client.request('upper', 'hello'))).toEqual(['HELLO'])
    expect(text(await client.request('', ['a', 'b']))).toEqual(['A', 'B'])
    const [first, second] = broker.received
    expect(first!.request).toMatchObject({ dialect: 'nsz', service: 'upper' })
    expect(second!.request).toMatchObject({ dialect: 'nsz', service: 'default' })
    expect(requestId(first!)).toHaveLength(8)
    // Same client prefix, another counter.
    expect(requestId(first!).subarray(0, 4)).toEqual(requestId(second!).subarray(0, 4))
    expect(requestId(first!).equals(requestId(second!))).toBe(false)
    expect(client.stats).toMatchObject({ sent: 2, received: 2, inFlight: 0, queued: 0 })
  })

  it('matches 1000 pipelined requests to their replies', async () => {
    const broker = await startBroker()
    const client = pipelinedClient({ endpoint: broker.endpoint, maxInFlight: 1000 })
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.request('s', `job-${i}`)))
    expect(replies.map((r) => r[0]!.toString())).toEqual(Array.from({ length: 1000 }, (_, i) => `JOB-${i}`))
    expect(client.stats).toMatchObject({ sent: 1000, received: 1000, late: 0 })
  })

  it('matches replies that come back in another order', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: 5000 })
    const replies = Array.from({ length: 20 }, (_, i) => client.request('s', `n${i}`))
    await broker.until(() => broker.held.length === 20)
    broker.held.reverse()
    broker.release()
    expect((await Promise.all(replies)).map((r) => r[0]!.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `N${i}`))
  })

  it('resends with the same request id after a dropped request', async () => {
    const broker = await startBroker()
    broker.dropNext = 1
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: 150, retries: 2 })
    expect(text(await client.request('s', 'again'))).toEqual(['AGAIN'])
    expect(broker.received).toHaveLength(2)
    expect(requestId(broker.received[0]!)).toEqual(requestId(broker.received[1]!))
    expect(client.stats).toMatchObject({ sent: 2, retried: 1, received: 1 })
  })

  it('gives up with NSZ_ERR_CLIENT_TIMEOUT after timeout x (retries + 1)', async () => {
    const broker = await startBroker()
    broker.handler = () => undefined
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: 1000, retries: 5 })
    const started = performance.now()
    const err = await rejection(client.request('s', 'lost', { timeout: 100, retries: 2 }))
    const elapsed = performance.now() - started
    expect(err.code).toBe(ClientErrorCode.TIMEOUT)
    expect(broker.received).toHaveLength(3)
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(3000)
  })

  it('gives up when the server is down', async () => {
    const client = pipelinedClient({ endpoint: await deadEndpoint(), timeout: 50, retries: 1 })
    const started = performance.now()
    expect(await rejection(client.request('s', 'x'))).toMatchObject({ code: ClientErrorCode.TIMEOUT })
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('drops a late reply and counts it', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: 100, retries: 0 })
    expect(await rejection(client.request('s', 'slow'))).toMatchObject({ code: ClientErrorCode.TIMEOUT })
    broker.hold = false
    broker.release()
    // Replies on one connection arrive in order: once this one is in, the late one was seen.
    expect(text(await client.request('s', 'next', { timeout: 5000 }))).toEqual(['NEXT'])
    expect(client.stats).toMatchObject({ late: 1, received: 1 })
  })

  it('drops duplicate replies and counts them', async () => {
    const broker = await startBroker()
    broker.duplicate = true
    const client = pipelinedClient({ endpoint: broker.endpoint })
    expect(text(await client.request('s', 'one'))).toEqual(['ONE'])
    expect(text(await client.request('s', 'two'))).toEqual(['TWO'])
    expect(client.stats).toMatchObject({ late: 1, received: 2 })
  })

  it('drops a reply for another request id and one in another dialect', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: 5000 })
    const pending = client.request('s', 'mine')
    await broker.until(() => broker.held.length === 1)
    const { routingId } = broker.held[0]!
    const empty = Buffer.alloc(0)
    broker.sendRaw(routingId, encodeClientReply({ dialect: 'nsz', requestId: Buffer.from('someone else') }, 200, [Buffer.from('no')]))
    broker.sendRaw(routingId, encodeClientReply({ dialect: 'req' }, 200, [Buffer.from('no')]))
    broker.sendRaw(routingId, [empty, Buffer.from(NSZC)])
    broker.release()
    expect(text(await pending)).toEqual(['MINE'])
    expect(client.stats).toMatchObject({ foreign: 1, malformed: 2, received: 1 })
  })

  it('rejects with NSZ_ERR_CLIENT_BAD_REPLY when its reply has no valid status', async () => {
    const broker = await startBroker()
    broker.handler = () => undefined
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: 5000 })
    const pending = client.request('s', 'x')
    await broker.until(() => broker.received.length === 1)
    const r = broker.received[0]!
    broker.sendRaw(r.routingId, [Buffer.alloc(0), Buffer.from(NSZC), requestId(r), Buffer.from('2e2'), Buffer.from('X')])
    expect(await rejection(pending)).toMatchObject({ code: ClientErrorCode.BAD_REPLY })
  })

  it.each<[number, ClientErrorCodeValue]>([...STATUS_ERRORS, [418, ClientErrorCode.BAD_REPLY]])('turns status %i into %s', async (status, code) => {
    const broker = await startBroker()
    broker.handler = () => ({ status, body: [Buffer.from('why')] })
    const client = pipelinedClient({ endpoint: broker.endpoint })
    const err = await rejection(client.request('s', 'x'))
    expect(isClientError(err, code)).toBe(true)
    expect(err.status).toBe(status)
  })

  it('keeps the worker message of an app error', async () => {
    const broker = await startBroker()
    broker.handler = () => ({ status: Status.APP_ERROR, body: [Buffer.from('division by zero')] })
    const client = pipelinedClient({ endpoint: broker.endpoint })
    const err = await rejection(client.request('s', 'x'))
    expect(err).toMatchObject({ code: ClientErrorCode.APP_ERROR, status: 500, detail: 'division by zero' })
    expect(err.message).toBe('job failed: division by zero')
  })

  it('keeps at most maxInFlight requests outstanding and sends the rest in order', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, maxInFlight: 8, timeout: 10_000 })
    const replies = Array.from({ length: 50 }, (_, i) => client.request('s', String(i)))
    expect(client.stats).toMatchObject({ inFlight: 8, queued: 42 })
    // Answer one at a time, each time the broker holds all it can get: an unbounded
    // client would have sent all 50 at once.
    for (let answered = 0; answered < 50; answered++) {
      await broker.until(() => broker.held.length >= Math.min(8, 50 - answered))
      broker.release(1)
    }
    await Promise.all(replies)
    expect(broker.maxHeld).toBe(8)
    expect(broker.received.map((r) => r.request.body[0]!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)))
  })

  it('aborts a request in flight, one waiting for a slot and one aborted before', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, maxInFlight: 1, timeout: 10_000 })
    const first = new AbortController()
    const second = new AbortController()
    const inFlight = client.request('s', 'a', { signal: first.signal })
    const waiting = client.request('s', 'b', { signal: second.signal })
    const third = client.request('s', 'c')
    await broker.until(() => broker.held.length === 1)
    second.abort(new Error('changed my mind'))
    expect((await rejection(waiting)).message).toBe('changed my mind')
    first.abort()
    expect((await rejection(inFlight)).name).toBe('AbortError')
    // The slot is free again: 'c' goes out, 'b' never does.
    await broker.until(() => broker.received.length === 2)
    broker.hold = false
    broker.release()
    expect(text(await third)).toEqual(['C'])
    expect(broker.received.map((r) => r.request.body[0]!.toString())).toEqual(['a', 'c'])
    expect((await rejection(client.request('s', 'd', { signal: AbortSignal.abort() }))).name).toBe('AbortError')
    expect(client.stats).toMatchObject({ late: 1, inFlight: 0, queued: 0 })
  })

  it('close rejects requests in flight, waiting ones and later calls', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, maxInFlight: 2, timeout: 10_000 })
    const pending = Array.from({ length: 5 }, (_, i) => client.request('s', String(i)))
    await broker.until(() => broker.held.length === 2)
    client.close()
    for (const p of pending) expect(await rejection(p)).toMatchObject({ code: ClientErrorCode.CLOSED })
    expect(await rejection(client.request('s', 'late'))).toMatchObject({ code: ClientErrorCode.CLOSED })
    expect(client.stats).toMatchObject({ inFlight: 0, queued: 0 })
    client.close()
  })

  it('sets the routing id', async () => {
    const broker = await startBroker()
    const client = pipelinedClient({ endpoint: broker.endpoint, identity: 'batch-1' })
    await client.request('s', 'x')
    expect(broker.received[0]!.routingId.toString()).toBe('batch-1')
  })

  it('talks CURVE to a CURVE broker', async () => {
    const server = curveKeyPair()
    const router = new Router({ linger: 0, curveServer: true, curveSecretKey: server.secretKey })
    onTestFinished(() => router.close())
    await router.bind('tcp://127.0.0.1:*')
    const client = pipelinedClient({ endpoint: router.lastEndpoint!, curve: { serverKey: server.publicKey } })
    const reply = client.request('s', 'secret')
    const [id, ...msg] = await router.receive()
    const request = decodeClientRequest(msg)
    if (isDecodeError(request) || request.dialect !== 'nsz') throw new Error('unexpected request')
    await router.send([id!, ...encodeClientReply({ dialect: 'nsz', requestId: request.requestId }, 200, [Buffer.from('ok')])])
    expect(text(await reply)).toEqual(['ok'])
  })
})
