import { describe, expect, it } from 'vitest'
import {
  WorkerPool, ZmqServer, brokerOptionSpecs, brokerServerOptionSpecs, checkEndpoint, workerAgentOptionSpecs, zmqServerOptionSpecs,
  type BrokerOptions, type WorkerAgentOptions
} from '@net-server/zmq'
import {
  BROKER_DEFAULTS, WORKER_AGENT_DEFAULTS, resolveBrokerOptions, resolveWorkerAgentOptions
} from '../../src/options.js'

describe('broker options', () => {
  it('fills in the defaults; serviceGrace follows the heartbeat settings', () => {
    const o = resolveBrokerOptions()
    expect(o).toMatchObject({ ...BROKER_DEFAULTS, services: [], serviceGrace: 7500 })
    expect(resolveBrokerOptions({ heartbeatInterval: 100, heartbeatLiveness: 4 }).serviceGrace).toBe(400)
    expect(resolveBrokerOptions({ jobTimeout: 0, maxQueue: 0, serviceGrace: 0 })).toMatchObject({ jobTimeout: 0, maxQueue: 0, serviceGrace: 0 })
    expect(resolveBrokerOptions({ maxQueue: undefined }).maxQueue).toBe(10_000)
    expect(o).toMatchObject({ maxQueuePerClient: 1000, queueTimeout: 30_000, maxClientBuffer: 4 * 1024 * 1024, maxServicesPerWorker: 64, maxServices: 1000 })
    expect(resolveBrokerOptions({ queueTimeout: 0 }).queueTimeout).toBe(0)
  })

  it.each<[BrokerOptions, ErrorConstructor, string]>([
    [{ heartbeatInterval: 0 }, RangeError, 'options.heartbeatInterval must be at least 1 ms, got 0'],
    [{ heartbeatInterval: 1.5 }, TypeError, 'options.heartbeatInterval must be a whole number of milliseconds, got 1.5'],
    [{ heartbeatLiveness: '3' as never }, TypeError, "options.heartbeatLiveness must be an integer, got '3'"],
    [{ jobTimeout: -1 }, RangeError, 'options.jobTimeout must be at least 0 ms, got -1'],
    [{ maxQueue: Number.NaN }, TypeError, 'options.maxQueue must be an integer, got NaN'],
    [{ maxMessageSize: 0 }, RangeError, 'options.maxMessageSize must be a positive integer, got 0'],
    [{ maxQueuePerClient: 0 }, RangeError, 'options.maxQueuePerClient must be a positive integer, got 0'],
    [{ queueTimeout: -1 }, RangeError, 'options.queueTimeout must be at least 0 ms, got -1'],
    [{ maxClientBuffer: 0 }, RangeError, 'options.maxClientBuffer must be a positive integer, got 0'],
    [{ maxServicesPerWorker: 1.5 }, TypeError, 'options.maxServicesPerWorker must be an integer, got 1.5'],
    [{ maxServices: 0 }, RangeError, 'options.maxServices must be a positive integer, got 0'],
    [{ requeue: 'yes' as never }, TypeError, "options.requeue must be a boolean, got 'yes'"],
    [{ frontend: 6660 as never }, TypeError, 'options.frontend must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock'],
    [{ backend: 'localhost:6661' }, RangeError, "options.backend must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock, got 'localhost:6661'"],
    [{ defaultService: '' }, RangeError, 'options.defaultService must not be empty'],
    [{ defaultService: 'mmi.x' }, RangeError, 'options.defaultService must not start with mmi. (reserved for MMI)'],
    [{ services: 'a' as never }, TypeError, "options.services must be an array of service names, got 'a'"],
    [{ services: ['a', ''] }, RangeError, 'options.services[1] must not be empty'],
    [{ serviceGrace: -5 }, RangeError, 'options.serviceGrace must be at least 0 ms, got -5'],
    [{ linger: 0.5 }, TypeError, 'options.linger must be an integer, got 0.5']
  ])('rejects %o', (options, Type, message) => {
    expect(() => resolveBrokerOptions(options)).toThrow(new Type(message))
  })

  it('rejects options that are not an object', () => {
    for (const bad of [null, 'fast', 5]) expect(() => resolveBrokerOptions(bad as never)).toThrow(new TypeError('options must be an object'))
  })

  it('leaves alone the names it does not know: a server hands its own options through', () => {
    expect(resolveBrokerOptions({ minServers: 5, maxQueue: 7 } as never)).toMatchObject({ maxQueue: 7 })
    expect(resolveBrokerOptions({ minServers: 5 } as never)).not.toHaveProperty('minServers')
  })

  it('lists every default but serviceGrace, which follows the heartbeat settings', () => {
    expect(Object.keys(BROKER_DEFAULTS)).not.toContain('serviceGrace')
    expect(Object.keys(BROKER_DEFAULTS).sort()).toEqual(Object.keys(brokerOptionSpecs).filter((n) => n !== 'serviceGrace').sort())
  })

  it('counts time in whole milliseconds where a timer takes it', () => {
    const whole = Object.entries(brokerOptionSpecs).filter(([, spec]) => spec.whole === true).map(([name]) => name)
    expect(whole).toEqual(['jobTimeout', 'queueTimeout', 'serviceGrace', 'heartbeatInterval'])
    for (const name of whole) expect(() => resolveBrokerOptions({ [name]: 1.5 }), name).toThrow(`options.${name} must be a whole number of milliseconds, got 1.5`)
  })

  it.each([
    [{ services: [5] }, TypeError, 'options.services[0] must be a string, got 5'],
    [{ frontendSocketOptions: null }, TypeError, 'options.frontendSocketOptions must be an object of zeromq.js socket options'],
    [{ backendSocketOptions: [] }, TypeError, 'options.backendSocketOptions must be an object of zeromq.js socket options'],
    [{ backendSocketOptions: 'curve' }, TypeError, 'options.backendSocketOptions must be an object of zeromq.js socket options']
  ])('names what is wrong in %j', (options, Type, message) => {
    expect(() => resolveBrokerOptions(options as never)).toThrow(new Type(message))
  })

  it('keeps a frozen copy of the socket options it is given', () => {
    const given = { zapDomain: 'frontend' }
    const o = resolveBrokerOptions({ frontendSocketOptions: given })
    expect(o.frontendSocketOptions).toEqual(given)
    expect(o.frontendSocketOptions).not.toBe(given)
    expect(Object.isFrozen(o.frontendSocketOptions)).toBe(true)
  })
})

describe('worker agent options', () => {
  it('fills in the defaults and deduplicates services', () => {
    expect(resolveWorkerAgentOptions({ endpoint: 'tcp://127.0.0.1:1' })).toEqual({ ...WORKER_AGENT_DEFAULTS, endpoint: 'tcp://127.0.0.1:1' })
    expect(resolveWorkerAgentOptions({ endpoint: 'ipc:///tmp/x', services: ['a', 'b', 'a'] }).services).toEqual(['a', 'b'])
    expect(Object.keys(WORKER_AGENT_DEFAULTS)).not.toContain('endpoint')
  })

  it('takes a routing id prefix of up to 200 bytes, and equal reconnect delays', () => {
    const endpoint = 'tcp://127.0.0.1:1'
    expect(resolveWorkerAgentOptions({ endpoint, routingIdPrefix: 'w1-' }).routingIdPrefix).toBe('w1-')
    expect(resolveWorkerAgentOptions({ endpoint, routingIdPrefix: 'é'.repeat(100) }).routingIdPrefix).toBe('é'.repeat(100))
    expect(resolveWorkerAgentOptions({ endpoint, reconnectInterval: 500, reconnectMaxInterval: 500 })).toMatchObject({ reconnectInterval: 500, reconnectMaxInterval: 500 })
  })

  it('counts time in whole milliseconds', () => {
    for (const name of ['heartbeatInterval', 'reconnectInterval', 'reconnectMaxInterval']) {
      expect(() => resolveWorkerAgentOptions({ endpoint: 'tcp://127.0.0.1:1', reconnectMaxInterval: 60_000, [name]: 1000.5 }), name)
        .toThrow(`options.${name} must be a whole number of milliseconds, got 1000.5`)
    }
  })

  it.each<[Partial<WorkerAgentOptions>, ErrorConstructor, string]>([
    [{ endpoint: undefined }, TypeError, 'options.endpoint must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock (it is required)'],
    [{ services: [] }, RangeError, 'options.services must name at least one service'],
    [{ services: ['mmi.service'] }, RangeError, 'options.services[0] must not start with mmi. (reserved for MMI)'],
    [{ heartbeatInterval: -1 }, RangeError, 'options.heartbeatInterval must be at least 1 ms, got -1'],
    [{ reconnectInterval: 0 }, RangeError, 'options.reconnectInterval must be at least 1 ms, got 0'],
    [{ reconnectInterval: 5000, reconnectMaxInterval: 1000 }, RangeError, 'options.reconnectMaxInterval must not be less than options.reconnectInterval'],
    [{ extension: 1 as never }, TypeError, 'options.extension must be a boolean, got 1'],
    [{ concurrency: 0 }, RangeError, 'options.concurrency must be an integer from 1 to 1024, got 0'],
    [{ concurrency: 1025 }, RangeError, 'options.concurrency must be an integer from 1 to 1024, got 1025'],
    [{ concurrency: 1.5 }, TypeError, 'options.concurrency must be an integer, got 1.5'],
    [{ routingIdPrefix: '' }, TypeError, 'options.routingIdPrefix must be a non-empty string of at most 200 bytes, not starting with a zero byte'],
    [{ routingIdPrefix: 'é'.repeat(101) }, TypeError, 'options.routingIdPrefix must be a non-empty string of at most 200 bytes, not starting with a zero byte'],
    [{ routingIdPrefix: '\0w' }, TypeError, 'options.routingIdPrefix must be a non-empty string of at most 200 bytes, not starting with a zero byte'],
    [{ routingIdPrefix: 7 as never }, TypeError, 'options.routingIdPrefix must be a non-empty string of at most 200 bytes, not starting with a zero byte']
  ])('rejects %o', (options, Type, message) => {
    const all = { endpoint: 'tcp://127.0.0.1:1', ...options } as WorkerAgentOptions
    expect(() => resolveWorkerAgentOptions(all)).toThrow(new Type(message))
  })
})

describe('one declaration per option', () => {
  it('gives ZmqServer the broker\'s own specs for the options it hands to its broker', () => {
    const server = zmqServerOptionSpecs()
    for (const [name, spec] of Object.entries(brokerServerOptionSpecs)) {
      if (name === 'heartbeatInterval') continue
      expect(server[name], name).toBe(spec)
      expect(brokerOptionSpecs[name as keyof typeof brokerOptionSpecs], name).toBe(spec)
    }
    expect(server.service).toBe(brokerOptionSpecs.defaultService)
    expect(workerAgentOptionSpecs.heartbeatLiveness).toBe(brokerServerOptionSpecs.heartbeatLiveness)
  })

  it('makes each difference between a server and its broker an override of the broker\'s spec', () => {
    const server = new ZmqServer({ argv: false }).describeOptions()
    // A server's heartbeats are at least 10 ms apart, a broker's at least 1 ms.
    expect(brokerServerOptionSpecs.heartbeatInterval.min).toBe(1)
    const { description, default: fallback, group, whole } = brokerServerOptionSpecs.heartbeatInterval
    expect(server.heartbeatInterval).toMatchObject({ description, default: fallback, group, whole, min: 10 })
    expect(() => server.heartbeatInterval!.validate(5, 'heartbeatInterval')).toThrow('options.heartbeatInterval must be at least 10 ms, got 5')
    // A broker binds a free loopback port by default; a server derives its endpoints from host and port.
    expect(brokerOptionSpecs.frontend.default).toBe('tcp://127.0.0.1:*')
    expect(server.frontend!.default).toBeUndefined()
    expect(server.frontend!.validate(undefined, 'frontend')).toBeUndefined()
    expect(() => server.frontend!.validate('localhost:1', 'frontend')).toThrow("options.frontend must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock, got 'localhost:1'")
  })

  it('marks the options a pool without a broker has no use for with scope broker', () => {
    const specs = new WorkerPool({ argv: false }).describeOptions()
    const broker = Object.keys(specs).filter((name) => specs[name]!.scope === 'broker').sort()
    expect(broker).toEqual(['allow', 'backend', 'cidrAllow', 'cidrDeny', 'clientKeys', 'curve', 'dashboard', 'dashboardActions', 'dashboardToken', 'deny', 'frontend', 'host', 'insecureBackend', 'maxClientBuffer', 'maxMessageSize', 'maxQueue', 'maxQueuePerClient', 'maxServices', 'maxServicesPerWorker', 'metricsHost', 'metricsPort', 'port', 'queueTimeout', 'requeue', 'scaleUpCooldown', 'scaleUpWait', 'serviceGrace', 'workerKeys'])
  })

  it('refuses a service name in the MMI namespace for a server too, naming its own option', () => {
    expect(() => zmqServerOptionSpecs().service!.validate('mmi.x', 'service')).toThrow('options.service must not start with mmi.')
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
    [undefined, {}, TypeError, 'options.x must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock (it is required)'],
    ['localhost:6660', {}, RangeError, "options.x must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock, got 'localhost:6660'"],
    ['bogus://x', {}, RangeError, "options.x must be a ZeroMQ endpoint, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock, got 'bogus://x'"],
    ['inproc://jobs', { transports: ['tcp', 'ipc'] as const, what: 'a backend' }, RangeError, "options.x must be a backend, like tcp://127.0.0.1:6660 or ipc:///run/jobs.sock, got 'inproc://jobs'"]
  ])('refuses %o', (value, check, Type, message) => {
    expect(() => checkEndpoint(value, 'x', check)).toThrow(new Type(message))
  })

  it('passes undefined through when optional', () => {
    expect(checkEndpoint(undefined, 'x', { optional: true })).toBeUndefined()
  })
})
