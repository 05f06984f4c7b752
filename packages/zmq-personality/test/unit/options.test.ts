import { describe, expect, it } from 'vitest'
import {
  BROKER_DEFAULTS, WORKER_AGENT_DEFAULTS, checkEndpoint, resolveBrokerOptions, resolveWorkerAgentOptions,
  type BrokerOptions, type WorkerAgentOptions
} from '@net-server/zmq'

describe('broker options', () => {
  it('fills in the defaults; serviceGrace follows the heartbeat settings', () => {
    const o = resolveBrokerOptions()
    expect(o).toMatchObject({ ...BROKER_DEFAULTS, services: [], serviceGrace: 7500 })
    expect(resolveBrokerOptions({ heartbeatInterval: 100, heartbeatLiveness: 4 }).serviceGrace).toBe(400)
    expect(resolveBrokerOptions({ jobTimeout: 0, maxQueue: 0, serviceGrace: 0 })).toMatchObject({ jobTimeout: 0, maxQueue: 0, serviceGrace: 0 })
    expect(resolveBrokerOptions({ maxQueue: undefined }).maxQueue).toBe(10_000)
  })

  it.each<[BrokerOptions, ErrorConstructor, string]>([
    [{ heartbeatInterval: 0 }, RangeError, 'options.heartbeatInterval must be a positive integer'],
    [{ heartbeatInterval: 1.5 }, TypeError, 'options.heartbeatInterval must be a positive integer'],
    [{ heartbeatLiveness: '3' as never }, TypeError, 'options.heartbeatLiveness must be a positive integer'],
    [{ jobTimeout: -1 }, RangeError, 'options.jobTimeout must be a non-negative integer'],
    [{ maxQueue: Number.NaN }, TypeError, 'options.maxQueue must be a non-negative integer'],
    [{ maxMessageSize: 0 }, RangeError, 'options.maxMessageSize must be a positive integer'],
    [{ requeue: 'yes' as never }, TypeError, 'options.requeue must be a boolean'],
    [{ frontend: 6660 as never }, TypeError, 'options.frontend must be a ZeroMQ endpoint, like tcp:'],
    [{ backend: 'localhost:6661' }, RangeError, 'options.backend must be a ZeroMQ endpoint'],
    [{ defaultService: '' }, RangeError, 'options.defaultService must not be empty'],
    [{ defaultService: 'mmi.x' }, RangeError, 'options.defaultService must not start with mmi.'],
    [{ services: 'a' as never }, TypeError, 'options.services must be an array'],
    [{ services: ['a', ''] }, RangeError, 'options.services[1] must not be empty'],
    [{ serviceGrace: -5 }, RangeError, 'options.serviceGrace must be a non-negative integer'],
    [{ linger: 0.5 }, TypeError, 'options.linger must be a non-negative integer']
  ])('rejects %o', (options, type, message) => {
    expect(() => resolveBrokerOptions(options)).toThrow(type)
    expect(() => resolveBrokerOptions(options)).toThrow(message)
  })

  it('rejects options that are not an object', () => {
    expect(() => resolveBrokerOptions(null as never)).toThrow(TypeError)
  })
})

describe('worker agent options', () => {
  it('fills in the defaults and deduplicates services', () => {
    expect(resolveWorkerAgentOptions({ endpoint: 'tcp://127.0.0.1:1' })).toEqual({ ...WORKER_AGENT_DEFAULTS, endpoint: 'tcp://127.0.0.1:1' })
    expect(resolveWorkerAgentOptions({ endpoint: 'ipc:///tmp/x', services: ['a', 'b', 'a'] }).services).toEqual(['a', 'b'])
  })

  it.each<[Partial<WorkerAgentOptions>, ErrorConstructor, string]>([
    [{ endpoint: undefined }, TypeError, 'options.endpoint must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock (it is required)'],
    [{ services: [] }, RangeError, 'options.services must name at least one service'],
    [{ services: ['mmi.service'] }, RangeError, 'options.services[0] must not start with mmi.'],
    [{ heartbeatInterval: -1 }, RangeError, 'options.heartbeatInterval must be a positive integer'],
    [{ reconnectInterval: 0 }, RangeError, 'options.reconnectInterval must be a positive integer'],
    [{ reconnectInterval: 5000, reconnectMaxInterval: 1000 }, RangeError, 'options.reconnectMaxInterval must not be less than options.reconnectInterval'],
    [{ extension: 1 as never }, TypeError, 'options.extension must be a boolean']
  ])('rejects %o', (options, type, message) => {
    const all = { endpoint: 'tcp://127.0.0.1:1', ...options } as WorkerAgentOptions
    expect(() => resolveWorkerAgentOptions(all)).toThrow(type)
    expect(() => resolveWorkerAgentOptions(all)).toThrow(message)
  })
})

describe('checkEndpoint', () => {
  it.each([
    ['tcp://127.0.0.1:6660', {}],
    ['ipc:///run/jobs.sock', {}],
    ['inproc://jobs', {}],
    ['tcp://[::1]:*', { transports: ['tcp'] as const }]
  ])('accepts %s', (endpoint, check) => {
    expect(checkEndpoint(endpoint, 'x', check)).toBe(endpoint)
  })

  it.each([
    [42, {}, TypeError, 'options.x must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock'],
    [undefined, {}, TypeError, '(it is required)'],
    ['localhost:6660', {}, RangeError, "got 'localhost:6660'"],
    ['bogus://x', {}, RangeError, "got 'bogus://x'"],
    ['inproc://jobs', { transports: ['tcp', 'ipc'] as const, what: 'a backend' }, RangeError, 'options.x must be a backend, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock']
  ])('refuses %o', (value, check, type, message) => {
    expect(() => checkEndpoint(value, 'x', check)).toThrow(type)
    expect(() => checkEndpoint(value, 'x', check)).toThrow(message)
  })

  it('passes undefined through when optional', () => {
    expect(checkEndpoint(undefined, 'x', { optional: true })).toBeUndefined()
  })
})
