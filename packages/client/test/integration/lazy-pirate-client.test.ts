import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { ClientErrorCode, MDPC, isClientError, type RetryEvent } from '@net-server/client'
import { deadEndpoint, rejection, text } from '@net-server/test-support'
import { lazyClient } from '../support/clients.js'
import { STATUS_ERRORS, startBroker } from '../support/fake-broker.js'

describe('LazyPirateClient', () => {
  it('sends a plain REQ request and resolves with the reply frames', async () => {
    const broker = await startBroker()
    const client = lazyClient({ endpoint: broker.endpoint })
    expect(text(await client.request('hello'))).toEqual(['HELLO'])
    expect(text(await client.request(['a', Buffer.from('b')]))).toEqual(['A', 'B'])
    expect(broker.received.map((r) => r.request.dialect)).toEqual(['req', 'req'])
  })

  it('speaks MDP/0.1 when given a service', async () => {
    const broker = await startBroker()
    const client = lazyClient({ endpoint: broker.endpoint, service: 'echo' })
    expect(text(await client.request('hi'))).toEqual(['HI'])
    expect(broker.received[0]!.request).toMatchObject({ dialect: 'mdp', service: 'echo' })
    expect(text(broker.received[0]!.raw.slice(0, 3))).toEqual(['', MDPC, 'echo'])
  })

  it('sets the routing id, also on the fresh socket of a retry', async () => {
    const broker = await startBroker()
    broker.dropNext = 1
    const client = lazyClient({ endpoint: broker.endpoint, identity: 'client-7', timeout: 200, retries: 2 })
    expect(text(await client.request('x'))).toEqual(['X'])
    // libzmq may refuse the fresh connection while the old one with the same id lingers: then a later retry goes through.
    expect(broker.received.length).toBeGreaterThanOrEqual(2)
    expect(new Set(broker.received.map((r) => r.routingId.toString()))).toEqual(new Set(['client-7']))
  })

  it('resends on a fresh socket after a dropped request', async () => {
    const broker = await startBroker()
    broker.dropNext = 1
    const retries: RetryEvent[] = []
    const client = lazyClient({ endpoint: broker.endpoint, timeout: 150, retries: 2, onRetry: (e) => retries.push(e) })
    expect(text(await client.request('again'))).toEqual(['AGAIN'])
    expect(retries).toEqual([{ attempt: 1, retries: 2, timeout: 150 }])
    expect(broker.received).toHaveLength(2)
    // A fresh socket has a fresh routing id.
    expect(broker.received[0]!.routingId.equals(broker.received[1]!.routingId)).toBe(false)
  })

  it('gives up with NSZ_ERR_CLIENT_TIMEOUT after timeout x (retries + 1)', async () => {
    const broker = await startBroker()
    broker.handler = () => undefined
    const client = lazyClient({ endpoint: broker.endpoint, timeout: 100, retries: 2 })
    const started = performance.now()
    const err = await rejection(client.request('lost'))
    const elapsed = performance.now() - started
    expect(err.code).toBe(ClientErrorCode.TIMEOUT)
    expect(err.message).toBe('no reply after 3 attempts of 100 ms')
    expect(broker.received).toHaveLength(3)
    expect(elapsed).toBeGreaterThanOrEqual(290)
    expect(elapsed).toBeLessThan(3000)
  })

  it('gives up when the server is down', async () => {
    const client = lazyClient({ endpoint: await deadEndpoint(), timeout: 50, retries: 1 })
    const started = performance.now()
    expect(await rejection(client.request('anyone?'))).toMatchObject({ code: ClientErrorCode.TIMEOUT })
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('keeps working after giving up', async () => {
    const broker = await startBroker()
    broker.dropNext = 1
    const client = lazyClient({ endpoint: broker.endpoint, timeout: 100, retries: 0 })
    expect(await rejection(client.request('one'))).toMatchObject({ code: ClientErrorCode.TIMEOUT })
    expect(text(await client.request('two'))).toEqual(['TWO'])
  })

  it.each(STATUS_ERRORS)('turns an ERROR %i reply into %s, in both dialects', async (status, code) => {
    const broker = await startBroker()
    broker.handler = () => ({ status, body: [Buffer.from('the reason')] })
    for (const service of [undefined, 'svc']) {
      const client = lazyClient({ endpoint: broker.endpoint, ...(service === undefined ? {} : { service }) })
      const err = await rejection(client.request('x'))
      expect(isClientError(err, code)).toBe(true)
      expect(err).toMatchObject({ status, detail: 'the reason' })
    }
  })

  it('rejects an MDP reply in another dialect or for another service', async () => {
    const broker = await startBroker()
    const client = lazyClient({ endpoint: broker.endpoint, service: 'svc', timeout: 2000 })
    broker.handler = () => undefined
    const plain = client.request('x')
    await broker.until(() => broker.received.length === 1)
    broker.sendRaw(broker.received[0]!.routingId, [Buffer.alloc(0), Buffer.from('plain')])
    expect(await rejection(plain)).toMatchObject({ code: ClientErrorCode.BAD_REPLY })

    const other = client.request('y')
    await broker.until(() => broker.received.length === 2)
    broker.sendRaw(broker.received[1]!.routingId, [Buffer.alloc(0), Buffer.from(MDPC), Buffer.from('other'), Buffer.from('Y')])
    const err = await rejection(other)
    expect(err.code).toBe(ClientErrorCode.BAD_REPLY)
    expect(err.message).toMatch(/'other'/)
  })

  it('serves concurrent calls one at a time, in order', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = lazyClient({ endpoint: broker.endpoint, timeout: 5000 })
    const replies = ['a', 'b', 'c'].map((p) => client.request(p))
    for (let i = 1; i <= 3; i++) {
      await broker.until(() => broker.received.length === i)
      expect(broker.held).toHaveLength(1)
      broker.release()
    }
    expect((await Promise.all(replies)).map(text)).toEqual([['A'], ['B'], ['C']])
    expect(broker.maxHeld).toBe(1)
  })

  it('aborts a request in flight and one waiting its turn', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = lazyClient({ endpoint: broker.endpoint, timeout: 5000 })
    const first = new AbortController()
    const second = new AbortController()
    const inFlight = client.request('a', { signal: first.signal })
    const waiting = client.request('b', { signal: second.signal })
    await broker.until(() => broker.received.length === 1)
    second.abort(new Error('not needed'))
    expect((await rejection(waiting)).message).toBe('not needed')
    first.abort()
    expect((await rejection(inFlight)).name).toBe('AbortError')
    // The socket is fresh: the next request goes through.
    broker.hold = false
    expect(text(await client.request('c'))).toEqual(['C'])
    expect(text(broker.received.map((r) => r.request.body[0]!))).toEqual(['a', 'c'])
    expect((await rejection(client.request('d', { signal: AbortSignal.abort() }))).name).toBe('AbortError')
  })

  it('close rejects the request in flight, the waiting ones and later calls', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = lazyClient({ endpoint: broker.endpoint, timeout: 5000 })
    const pending = [client.request('a'), client.request('b')]
    await broker.until(() => broker.received.length === 1)
    client.close()
    for (const p of pending) expect(await rejection(p)).toMatchObject({ code: ClientErrorCode.CLOSED })
    expect(await rejection(client.request('c'))).toMatchObject({ code: ClientErrorCode.CLOSED })
    expect(client.closed).toBe(true)
  })
})
