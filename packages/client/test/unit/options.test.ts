import { describe, expect, it } from 'vitest'
import { Client, LazyPirateClient } from '@net-server/client'
import { clientDefaults } from '../../src/client.js'
import { baseDefaults } from '../../src/options.js'

// Construction validates the options before it touches a socket, except the endpoint,
// which libzmq parses when the socket connects (nothing listens on port 1).
const ok = { endpoint: 'tcp://127.0.0.1:1' }

const bad: Array<[string, Record<string, unknown>, ErrorConstructor, RegExp]> = [
  ['a zero timeout', { timeout: 0 }, RangeError, /^options\.timeout must be a finite number > 0/],
  ['a negative timeout', { timeout: -5 }, RangeError, /^options\.timeout /],
  ['an infinite timeout', { timeout: Infinity }, RangeError, /^options\.timeout /],
  ['a timeout setTimeout cannot keep', { timeout: 2 ** 31 }, RangeError, /^options\.timeout must be at most/],
  ['a timeout in text', { timeout: '10' }, TypeError, /^options\.timeout must be a number/],
  ['NaN as timeout', { timeout: Number.NaN }, TypeError, /^options\.timeout /],
  ['negative retries', { retries: -1 }, RangeError, /^options\.retries must be an integer >= 0/],
  ['fractional retries', { retries: 1.5 }, TypeError, /^options\.retries must be an integer/],
  ['an empty endpoint', { endpoint: '' }, TypeError, /^options\.endpoint must be a non-empty string/],
  ['an endpoint that does not parse', { endpoint: 'localhost:6660' }, TypeError, /^options\.endpoint is not an endpoint/],
  ['an endpoint without port', { endpoint: 'tcp://localhost' }, TypeError, /^options\.endpoint /],
  ['a port out of range', { endpoint: 'tcp://localhost:99999' }, TypeError, /^options\.endpoint has a TCP port outside/],
  ['port 0', { endpoint: 'tcp://localhost:0' }, TypeError, /^options\.endpoint has a TCP port outside/],
  ['a transport a client cannot use', { endpoint: 'udp://127.0.0.1:5555' }, TypeError, /^options\.endpoint /],
  ['an empty identity', { identity: '' }, RangeError, /^options\.identity must be 1 to 255 bytes/],
  ['a long identity', { identity: 'x'.repeat(256) }, RangeError, /^options\.identity must be 1 to 255 bytes/],
  ['an identity with a leading zero byte', { identity: '\0abc' }, RangeError, /^options\.identity must not start/],
  ['a bad CURVE server key', { curve: { serverKey: 'short' } }, TypeError, /^options\.curve\.serverKey /],
  ['half a CURVE key pair', { curve: { serverKey: 'x'.repeat(40), publicKey: 'y'.repeat(40) } }, TypeError, /go together/]
]

describe.each([
  ['LazyPirateClient', (o: object) => new LazyPirateClient(o)],
  ['Client', (o: object) => new Client(o)]
])('%s options', (_, make) => {
  it.each(bad)('refuses %s', (_, options, type, message) => {
    let thrown: unknown
    try {
      make({ ...ok, ...options }).close()
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(type)
    expect((thrown as Error).message).toMatch(message)
  })

  it('fills in the defaults', () => {
    const client = make({})
    client.close()
    expect(client.options).toMatchObject({ endpoint: 'tcp://localhost:6660', timeout: 10_000, retries: 2 })
    expect(baseDefaults).toEqual({ endpoint: 'tcp://localhost:6660', timeout: 10_000, retries: 2 })
  })
})

describe('per-client options', () => {
  it('refuses a bad maxInFlight', () => {
    expect(() => new Client({ ...ok, maxInFlight: 0 })).toThrow(new RangeError('options.maxInFlight must be a positive integer (got 0)'))
    expect(() => new Client({ ...ok, maxInFlight: 2.5 })).toThrow(TypeError)
    expect(clientDefaults.maxInFlight).toBe(256)
  })

  it('refuses a bad service or onRetry for LazyPirateClient', () => {
    expect(() => new LazyPirateClient({ ...ok, service: '' })).toThrow(new TypeError('options.service must be a non-empty string'))
    expect(() => new LazyPirateClient({ ...ok, onRetry: 'x' as never })).toThrow(new TypeError('options.onRetry must be a function'))
  })

  it('rejects bad request options and payloads without sending', async () => {
    const client = new Client(ok)
    const lazy = new LazyPirateClient(ok)
    try {
      await expect(client.request('s', 'x', { timeout: 0 })).rejects.toThrow(/^options\.timeout /)
      await expect(client.request('s', 'x', { retries: -1 })).rejects.toThrow(/^options\.retries /)
      await expect(client.request('s', 'x', { signal: {} as AbortSignal })).rejects.toThrow(/^options\.signal /)
      await expect(client.request('s', 42 as never)).rejects.toThrow(/^payload must be/)
      await expect(client.request('s', ['a', 1] as never)).rejects.toThrow(/^payload\[1\] must be/)
      await expect(client.request(7 as never, 'x')).rejects.toThrow(/^service must be a string/)
      await expect(lazy.request('x', { timeout: -1 })).rejects.toThrow(RangeError)
      await expect(lazy.request([])).rejects.toThrow(/at least one frame/)
      expect(client.stats.sent).toBe(0)
    } finally {
      client.close()
      lazy.close()
    }
  })
})
