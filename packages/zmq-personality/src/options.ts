/**
 * Options of the broker and of the worker agent: what a user passes (`XOptions`), the
 * same with every field filled in (`ResolvedXOptions`), the defaults in one object each,
 * and the functions that validate and resolve them.
 */
import type { Dealer, Router, SocketOptions } from 'zeromq'
import { DEFAULT_SERVICE, MMI_PREFIX } from '@net-server/client'
import { checkEndpoint } from './endpoints.js'
import type { DispatchPolicy } from './dispatch.js'

/** Options of a {@link Broker}, as a user passes them. */
export interface BrokerOptions {
  /** Endpoint the frontend ROUTER binds, for clients (Perl: `port`, first entry). */
  frontend?: string
  /** Endpoint the backend ROUTER binds, for workers (Perl: `port`, second entry). */
  backend?: string
  /** Service that plain REQ requests, and requests with an empty service frame, go to. */
  defaultService?: string
  /** Services that requests may queue for before any worker has offered them. */
  services?: readonly string[]
  /** Milliseconds between heartbeats, both ways (RFC 7 `HEARTBEAT_INTERVAL`). */
  heartbeatInterval?: number
  /** Heartbeats an idle worker may miss before the broker drops it (RFC 7 `HEARTBEAT_LIVENESS`). */
  heartbeatLiveness?: number
  /** Milliseconds a worker may hold a job before the client gets 504; `0` disables it. */
  jobTimeout?: number
  /** Requests that may wait for a worker, over all services; past it a request gets 503 at once. */
  maxQueue?: number
  /** Largest request body in bytes, all body frames together; a larger one gets 413. */
  maxMessageSize?: number
  /** On worker loss, send the job to another worker once instead of answering 502. */
  requeue?: boolean
  /**
   * Milliseconds after `bind()` during which requests for a service that no worker has
   * offered yet wait in the queue; after it they get 404 at once. Defaults to
   * `heartbeatInterval * heartbeatLiveness`.
   */
  serviceGrace?: number
  /** Milliseconds the sockets may keep flushing replies after `close()` (libzmq `ZMQ_LINGER`). */
  linger?: number
  /**
   * Further zeromq.js options of the frontend ROUTER, set before it binds: CURVE
   * (`curveServerSocketOptions`) and `zapDomain` (`zapSocketOptions`). The broker's own
   * settings (`mandatory`, `sendTimeout`, `linger` …) take precedence.
   */
  frontendSocketOptions?: SocketOptions<Router>
  /** Further zeromq.js options of the backend ROUTER, as {@link BrokerOptions.frontendSocketOptions}. */
  backendSocketOptions?: SocketOptions<Router>
  /** Which worker takes which job (`docs/zmq.md`); checked and applied by the Broker. Default: `leastRecentlyUsed`. */
  dispatchPolicy?: DispatchPolicy
}

/** {@link BrokerOptions} with every field filled in. */
export interface ResolvedBrokerOptions {
  readonly frontend: string
  readonly backend: string
  readonly defaultService: string
  readonly services: readonly string[]
  readonly heartbeatInterval: number
  readonly heartbeatLiveness: number
  readonly jobTimeout: number
  readonly maxQueue: number
  readonly maxMessageSize: number
  readonly requeue: boolean
  readonly serviceGrace: number
  readonly linger: number
  readonly frontendSocketOptions: Readonly<SocketOptions<Router>>
  readonly backendSocketOptions: Readonly<SocketOptions<Router>>
}

/** Defaults of {@link BrokerOptions}; `serviceGrace` is derived from the heartbeat settings. */
export const BROKER_DEFAULTS: Readonly<Omit<ResolvedBrokerOptions, 'serviceGrace'>> = Object.freeze({
  frontend: 'tcp://127.0.0.1:*',
  backend: 'tcp://127.0.0.1:*',
  defaultService: DEFAULT_SERVICE,
  services: Object.freeze([]) as readonly string[],
  heartbeatInterval: 2500,
  heartbeatLiveness: 3,
  jobTimeout: 30_000,
  maxQueue: 10_000,
  maxMessageSize: 1024 * 1024,
  requeue: false,
  // Long enough to deliver the last replies on loopback or a LAN; shorter than the
  // 500 ms after which zeromq.js warns at exit about messages still queued.
  linger: 250,
  frontendSocketOptions: Object.freeze({}),
  backendSocketOptions: Object.freeze({})
})

/** Options of a {@link WorkerAgent}, as a user passes them. */
export interface WorkerAgentOptions {
  /** The broker's backend endpoint to connect to. */
  endpoint: string
  /** Services this worker serves; the first goes in the READY service frame. */
  services?: readonly string[]
  /** Milliseconds between heartbeats, both ways; must match the broker's. */
  heartbeatInterval?: number
  /** Heartbeats from the broker that may be missed before the worker reconnects. */
  heartbeatLiveness?: number
  /** First reconnect delay in milliseconds; it doubles after each failed attempt. */
  reconnectInterval?: number
  /** Longest reconnect delay in milliseconds. */
  reconnectMaxInterval?: number
  /** Announce the project's READY extension (pid, services, reply status). */
  extension?: boolean
  /** Milliseconds the socket may keep flushing a last reply and DISCONNECT on close. */
  linger?: number
  /**
   * Further zeromq.js options of the DEALER, set at each (re)connect before it
   * connects: CURVE (`curveClientSocketOptions`). The agent's `linger` takes precedence.
   */
  socketOptions?: SocketOptions<Dealer>
  /**
   * Each connection's routing id starts with this text, followed by random bytes (a
   * fresh id per connection). A server tells its own children's workers from remote
   * ones by it. Default: libzmq picks the id.
   */
  routingIdPrefix?: string
}

/** {@link WorkerAgentOptions} with every field filled in. */
export interface ResolvedWorkerAgentOptions {
  readonly endpoint: string
  readonly services: readonly string[]
  readonly heartbeatInterval: number
  readonly heartbeatLiveness: number
  readonly reconnectInterval: number
  readonly reconnectMaxInterval: number
  readonly extension: boolean
  readonly linger: number
  readonly socketOptions: Readonly<SocketOptions<Dealer>>
  readonly routingIdPrefix: string | undefined
}

/** Defaults of {@link WorkerAgentOptions}. */
export const WORKER_AGENT_DEFAULTS: Readonly<Omit<ResolvedWorkerAgentOptions, 'endpoint'>> = Object.freeze({
  services: Object.freeze([DEFAULT_SERVICE]) as readonly string[],
  heartbeatInterval: 2500,
  heartbeatLiveness: 3,
  reconnectInterval: 1000,
  reconnectMaxInterval: 32_000,
  extension: true,
  // Long enough to deliver the last replies on loopback or a LAN; shorter than the
  // 500 ms after which zeromq.js warns at exit about messages still queued.
  linger: 250,
  socketOptions: Object.freeze({}),
  routingIdPrefix: undefined
})

/** Validates `options` and fills in the defaults; throws TypeError or RangeError naming the field. */
export function resolveBrokerOptions (options: BrokerOptions = {}): ResolvedBrokerOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
  const o = { ...BROKER_DEFAULTS, ...defined(options) }
  const heartbeatInterval = duration('heartbeatInterval', o.heartbeatInterval, 1)
  const heartbeatLiveness = integer('heartbeatLiveness', o.heartbeatLiveness, 1)
  const defaultService = serviceName('defaultService', o.defaultService)
  return Object.freeze({
    frontend: checkEndpoint(o.frontend, 'frontend'),
    backend: checkEndpoint(o.backend, 'backend'),
    defaultService,
    services: serviceList('services', o.services, 0),
    heartbeatInterval,
    heartbeatLiveness,
    jobTimeout: duration('jobTimeout', o.jobTimeout, 0),
    maxQueue: integer('maxQueue', o.maxQueue, 0),
    maxMessageSize: integer('maxMessageSize', o.maxMessageSize, 1),
    requeue: boolean('requeue', o.requeue),
    serviceGrace: options.serviceGrace === undefined
      ? heartbeatInterval * heartbeatLiveness
      : duration('serviceGrace', options.serviceGrace, 0),
    linger: integer('linger', o.linger, 0),
    frontendSocketOptions: socketOptions('frontendSocketOptions', o.frontendSocketOptions),
    backendSocketOptions: socketOptions('backendSocketOptions', o.backendSocketOptions)
  })
}

/** Validates `options` and fills in the defaults; throws TypeError or RangeError naming the field. */
export function resolveWorkerAgentOptions (options: WorkerAgentOptions): ResolvedWorkerAgentOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
  const o = { ...WORKER_AGENT_DEFAULTS, ...defined(options) }
  const reconnectInterval = duration('reconnectInterval', o.reconnectInterval, 1)
  const reconnectMaxInterval = duration('reconnectMaxInterval', o.reconnectMaxInterval, 1)
  if (reconnectMaxInterval < reconnectInterval) {
    throw new RangeError('options.reconnectMaxInterval must not be less than options.reconnectInterval')
  }
  return Object.freeze({
    endpoint: checkEndpoint(o.endpoint, 'endpoint'),
    services: serviceList('services', o.services, 1),
    heartbeatInterval: duration('heartbeatInterval', o.heartbeatInterval, 1),
    heartbeatLiveness: integer('heartbeatLiveness', o.heartbeatLiveness, 1),
    reconnectInterval,
    reconnectMaxInterval,
    extension: boolean('extension', o.extension),
    linger: integer('linger', o.linger, 0),
    socketOptions: socketOptions('socketOptions', o.socketOptions),
    routingIdPrefix: routingIdPrefix(o.routingIdPrefix)
  })
}

function routingIdPrefix (value: unknown): string | undefined {
  if (value === undefined) return undefined
  // libzmq takes routing ids of 1 to 255 bytes; 12 random bytes follow the prefix.
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > 200 || value.charCodeAt(0) === 0) {
    throw new TypeError('options.routingIdPrefix must be a non-empty string of at most 200 bytes, not starting with a zero byte')
  }
  return value
}

// Drops the fields a caller set to `undefined`, so that they take the default.
function defined<T extends object> (options: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v
  }
  return out
}

function integer (name: string, value: unknown, min: 0 | 1): number {
  const what = min === 0 ? 'a non-negative integer' : 'a positive integer'
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`options.${name} must be ${what}`)
  if (value < min || !Number.isSafeInteger(value)) throw new RangeError(`options.${name} must be ${what}`)
  return value
}

/** Node's timers hold at most 2^31 - 1 ms; a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647

/** A duration in ms that a timer will hold. */
function duration (name: string, value: unknown, min: 0 | 1): number {
  const ms = integer(name, value, min)
  if (ms > MAX_TIMER_MS) throw new RangeError(`options.${name} must be at most ${MAX_TIMER_MS} ms (about 24.8 days), got ${ms}`)
  return ms
}

function boolean (name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean`)
  return value
}

function socketOptions<T extends object> (name: string, value: unknown): Readonly<T> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`options.${name} must be an object of zeromq.js socket options`)
  return Object.freeze({ ...value }) as Readonly<T>
}

function serviceName (name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`options.${name} must be a string`)
  if (value.length === 0) throw new RangeError(`options.${name} must not be empty`)
  if (value.startsWith(MMI_PREFIX)) throw new RangeError(`options.${name} must not start with ${MMI_PREFIX} (reserved for MMI)`)
  return value
}

function serviceList (name: string, value: unknown, min: 0 | 1): readonly string[] {
  if (!Array.isArray(value)) throw new TypeError(`options.${name} must be an array of service names`)
  if (value.length < min) throw new RangeError(`options.${name} must name at least one service`)
  const seen = new Set<string>()
  for (const [i, s] of value.entries()) {
    seen.add(serviceName(`${name}[${i}]`, s))
  }
  return Object.freeze([...seen])
}
