/**
 * The clients when their connection drops: a broker that goes away (its socket
 * closed) with requests unanswered, and one that comes back on the same address.
 * What was sent on the dropped connection is sent again at once, as one of its
 * retries, or fails with NSZ_ERR_CLIENT_CONNECTION_LOST; it never waits for its
 * timeout, and each request settles once.
 */
import { describe, expect, it } from 'vitest'
import { ClientErrorCode, isClientError, type RetryEvent } from '@net-server/client'
import { rejection, text, within } from '@net-server/test-support'
import { lazyClient, pipelinedClient } from '../support/clients.js'
import { startBroker, type FakeBroker } from '../support/fake-broker.js'

/** A long timeout: a request that waited for it would fail the test's own deadline first. */
const TIMEOUT = 60_000

/** Holds `n` requests of `client` on `broker`, answers the first, then closes the broker: `n - 1` are left on the dropped connection. */
async function dropWithHeld (broker: FakeBroker, requests: Promise<Buffer[]>[]): Promise<void> {
  await broker.until(() => broker.held.length === requests.length)
  broker.release(1)
  await within(requests[0]!, 5000, 'the reply sent before the drop')
  await goAway(broker)
}

/** Closes `broker` once its port is free again: libzmq releases a listener after close() returns, unbind() waits for it. */
async function goAway (broker: FakeBroker): Promise<void> {
  await broker.socket.unbind(broker.endpoint)
  broker.close()
}

describe('Client, when the connection to the broker drops', () => {
  it('sends the requests it held again on the broker that comes back on the same address, each once', async () => {
    const first = await startBroker()
    first.hold = true
    const client = pipelinedClient({ endpoint: first.endpoint, timeout: TIMEOUT, retries: 1 })
    const requests = Array.from({ length: 5 }, (_, i) => client.request('s', `n${i}`))
    await dropWithHeld(first, requests)
    const second = await startBroker(first.endpoint)
    const replies = await within(Promise.all(requests), 10_000, 'the replies of the broker that came back')
    expect(replies.map(text)).toEqual(['N0', 'N1', 'N2', 'N3', 'N4'].map((r) => [r]))
    // The answered request is not sent again; the four others once each.
    expect(second.received.map((r) => text(r.request.body)[0]).sort()).toEqual(['n1', 'n2', 'n3', 'n4'])
    expect(client.stats).toMatchObject({ retried: 4, connectionsLost: 1, received: 5, late: 0, inFlight: 0 })
  })

  it('fails them with NSZ_ERR_CLIENT_CONNECTION_LOST when they have no retry left, long before their timeout', async () => {
    const broker = await startBroker()
    broker.hold = true
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: TIMEOUT, retries: 0 })
    const requests = Array.from({ length: 3 }, (_, i) => client.request('s', `n${i}`))
    const failures = requests.slice(1).map(async (r) => await rejection(r))
    await dropWithHeld(broker, requests)
    const errors = await within(Promise.all(failures), 5000, 'the two requests failed')
    for (const err of errors) {
      expect(isClientError(err, ClientErrorCode.CONNECTION_LOST)).toBe(true)
      expect((err as Error).message).toBe('the connection to the broker dropped before the reply came, after 1 attempt')
    }
    expect(client.stats).toMatchObject({ retried: 0, connectionsLost: 1, inFlight: 0 })
  })

  it('resends nothing while the connection holds', async () => {
    const broker = await startBroker()
    const client = pipelinedClient({ endpoint: broker.endpoint, timeout: TIMEOUT })
    expect(text(await client.request('s', 'x'))).toEqual(['X'])
    expect(client.stats).toMatchObject({ connectionsLost: 0, retried: 0 })
  })
})

describe('LazyPirateClient, when the connection to the broker drops', () => {
  it('gives up the attempt at once and resends on a fresh socket, to the broker that comes back', async () => {
    const first = await startBroker()
    first.hold = true
    const retries: RetryEvent[] = []
    const client = lazyClient({ endpoint: first.endpoint, timeout: TIMEOUT, retries: 1, onRetry: (e) => retries.push(e) })
    const reply = client.request('hello')
    await first.until(() => first.held.length === 1)
    await goAway(first)
    await startBroker(first.endpoint)
    expect(text(await within(reply, 10_000, 'the reply of the broker that came back'))).toEqual(['HELLO'])
    expect(retries).toEqual([{ attempt: 1, retries: 1, timeout: TIMEOUT }])
  })

  it('rejects with NSZ_ERR_CLIENT_CONNECTION_LOST when no retry is left, and serves the next request once the broker is back', async () => {
    const first = await startBroker()
    first.hold = true
    const client = lazyClient({ endpoint: first.endpoint, timeout: TIMEOUT, retries: 0 })
    const failed = rejection(client.request('one'))
    await first.until(() => first.held.length === 1)
    await goAway(first)
    const err = await within(failed, 5000, 'the request failed')
    expect(isClientError(err, ClientErrorCode.CONNECTION_LOST)).toBe(true)
    expect((err as Error).message).toBe('the connection to the broker dropped before the reply came, after 1 attempt')
    await startBroker(first.endpoint)
    expect(text(await within(client.request('two'), 10_000, 'the next request'))).toEqual(['TWO'])
  })
})
