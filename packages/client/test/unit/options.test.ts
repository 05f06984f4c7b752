import { describe, expect, it } from 'vitest'
import { Client, LazyPirateClient } from '@net-server/client'
import { clientDefaults } from '../../src/client.js'
import { baseDefaults } from '../../src/options.js'

// Construction validates the options before it touches a socket, except the endpoint,
// which libzmq parses when the socket connects (nothing listens on port 1).
const ok = { endpoint: 'tcp://127.0.0.1:1' }

const bad: Array<[string, Record<string, unknown>, ErrorConstructor, string]> = [
  ['a zero timeout', { timeout: 0 }, RangeError, 'options.timeout must be a finite number > 0 (got 0)'],
  ['a negative timeout', { timeout: -5 }, RangeError, 'options.timeout must be a finite number > 0 (got -5)'],
  ['an infinite timeout', { timeout: Infinity }, RangeError, 'options.timeout must be a finite number > 0 (got Infinity)'],
  ['a timeout setTimeout cannot keep', { timeout: 2 ** 31 }, RangeError, 'options.timeout must be at most 2147483647 ms (got 2147483648)'],
  ['a timeout in text', { timeout: '10' }, TypeError, 'options.timeout must be a number of milliseconds'],
  ['NaN as timeout', { timeout: Number.NaN }, TypeError, 'options.timeout must be a number of milliseconds'],
  ['negative retries', { retries: -1 }, RangeError, 'options.retries must be an integer >= 0 (got -1)'],
  ['fractional retries', { retries: 1.5 }, TypeError, 'options.retries must be an integer'],
  ['an empty endpoint', { endpoint: '' }, TypeError, 'options.endpoint must be a non-empty string'],
  ['an endpoint that does not parse', { endpoint: 'localhost:6660' }, TypeError, "options.endpoint is not an endpoint this client can connect to: 'localhost:6660' (Invalid argument)"],
  ['an endpoint without port', { endpoint: 'tcp://localhost' }, TypeError, "options.endpoint is not an endpoint this client can connect to: 'tcp://localhost' (Invalid argument)"],
  ['a port out of range', { endpoint: 'tcp://localhost:99999' }, TypeError, "options.endpoint has a TCP port outside 1-65535: 'tcp://localhost:99999'"],
  ['port 0', { endpoint: 'tcp://localhost:0' }, TypeError, "options.endpoint has a TCP port outside 1-65535: 'tcp://localhost:0'"],
  ['a transport a client cannot use', { endpoint: 'udp://127.0.0.1:5555' }, TypeError,
    "options.endpoint is not an endpoint this client can connect to: 'udp://127.0.0.1:5555' (The protocol is not compatible with the socket type)"],
  ['an empty identity', { identity: '' }, RangeError, 'options.identity must be 1 to 255 bytes long (got 0)'],
  ['a long identity', { identity: 'x'.repeat(256) }, RangeError, 'options.identity must be 1 to 255 bytes long (got 256)'],
  ['an identity with a leading zero byte', { identity: '\0abc' }, RangeError, 'options.identity must not start with a zero byte'],
  ['a bad CURVE server key', { curve: { serverKey: 'short' } }, TypeError, 'options.curve.serverKey must be a 40-character Z85 key'],
  ['half a CURVE key pair', { curve: { serverKey: 'x'.repeat(40), publicKey: 'y'.repeat(40) } }, TypeError, 'options.curve.publicKey and options.curve.secretKey go together']
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
    expect((thrown as Error).message).toBe(message)
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
    expect(() => new Client({ ...ok, maxInFlight: 2.5 })).toThrow(new TypeError('options.maxInFlight must be a positive integer'))
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
      await expect(client.request('s', 'x', { timeout: 0 })).rejects.toThrow(new RangeError('options.timeout must be a finite number > 0 (got 0)'))
      await expect(client.request('s', 'x', { retries: -1 })).rejects.toThrow(new RangeError('options.retries must be an integer >= 0 (got -1)'))
      await expect(client.request('s', 'x', { signal: {} as AbortSignal })).rejects.toThrow(new TypeError('options.signal must be an AbortSignal'))
      await expect(client.request('s', 42 as never)).rejects.toThrow(new TypeError('payload must be a Buffer, a string or an array of them'))
      await expect(client.request('s', ['a', 1] as never)).rejects.toThrow(new TypeError('payload[1] must be a Buffer or a string'))
      await expect(client.request(7 as never, 'x')).rejects.toThrow(new TypeError('service must be a string'))
      await expect(lazy.request('x', { timeout: -1 })).rejects.toThrow(new RangeError('options.timeout must be a finite number > 0 (got -1)'))
      await expect(lazy.request([])).rejects.toThrow(new TypeError('payload must have at least one frame for a plain REQ request'))
      expect(client.stats.sent).toBe(0)
    } finally {
      client.close()
      lazy.close()
    }
  })
})
