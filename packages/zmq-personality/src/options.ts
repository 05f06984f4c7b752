/**
 * Options of the broker and of the worker agent, each declared once, as a table of
 * option specs ({@link brokerOptionSpecs}, {@link workerAgentOptionSpecs}): what a user
 * passes (`XOptions`), the same with every field filled in (`ResolvedXOptions`), the
 * defaults and the resolution all follow from the table. `ZmqServer` spreads the part
 * of the broker's table that it hands to its broker ({@link brokerServerOptionSpecs}).
 */
import type { Dealer, Router, SocketOptions } from 'zeromq'
import { DEFAULT_SERVICE, MAX_SLOTS, MMI_PREFIX } from '@net-server/client'
import {
  boolean, custom, describe, duration, integer, optionDefaults, resolveOptions, specBase,
  type OptionSpec, type OptionSpecBase, type OptionSpecs, type Options, type OptionValues
} from '@net-server/core'
import { checkDispatchPolicy, type DispatchPolicy } from './dispatch.js'
import { checkEndpoint, type EndpointCheck } from './endpoints.js'

// ---------------------------------------------------------------------------
// Spec builders for the options of this package

/**
 * An endpoint option (`tcp://…`, `ipc://…`), checked by {@link checkEndpoint}; with
 * `optional`, `undefined` is accepted (a default derived elsewhere), else it is required.
 */
export function endpointOption (spec: OptionSpecBase<string | undefined> & EndpointCheck & { optional: true }): OptionSpec<string | undefined>
export function endpointOption (spec: OptionSpecBase<string | undefined> & EndpointCheck): OptionSpec<string>
export function endpointOption (spec: OptionSpecBase<string | undefined> & EndpointCheck): OptionSpec<string | undefined> {
  const check: EndpointCheck = { transports: spec.transports, example: spec.example, what: spec.what, optional: spec.optional }
  return {
    placeholder: '<endpoint>',
    ...specBase(spec),
    kind: 'string',
    parse: (raw) => raw,
    validate: (value, name) => checkEndpoint(value, name, check)
  }
}

/** A service name: not empty, and not in MMI's reserved `mmi.` namespace. */
export function serviceNameOption (spec: OptionSpecBase<string>): OptionSpec<string> {
  return { ...specBase(spec), kind: 'string', parse: (raw) => raw, validate: checkServiceName }
}

function checkServiceName (value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`options.${name} must be a string, got ${describe(value)}`)
  if (value.length === 0) throw new RangeError(`options.${name} must not be empty`)
  if (value.startsWith(MMI_PREFIX)) throw new RangeError(`options.${name} must not start with ${MMI_PREFIX} (reserved for MMI)`)
  return value
}

/** A list of service names, duplicates dropped; code only. */
function serviceList (spec: OptionSpecBase<readonly string[]> & { min: 0 | 1 }): OptionSpec<readonly string[]> {
  return custom({
    ...spec,
    check: (value, name) => {
      if (!Array.isArray(value)) throw new TypeError(`options.${name} must be an array of service names, got ${describe(value)}`)
      if (value.length < spec.min) throw new RangeError(`options.${name} must name at least one service`)
      const seen = new Set<string>()
      for (const [i, s] of value.entries()) seen.add(checkServiceName(s, `${name}[${i}]`))
      return Object.freeze([...seen])
    }
  })
}

/** Further zeromq.js options of one socket; code only. */
function socketOptions<T extends object> (description: string): OptionSpec<Readonly<T>> {
  return custom<Readonly<T>>({
    description,
    default: Object.freeze({}) as Readonly<T>,
    check: (value, name) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`options.${name} must be an object of zeromq.js socket options`)
      return Object.freeze({ ...value }) as Readonly<T>
    }
  })
}

// Long enough to deliver the last replies on loopback or a LAN; shorter than the
// 500 ms after which zeromq.js warns at exit about messages still queued.
const LINGER_MS = 250

// ---------------------------------------------------------------------------
// The broker

/**
 * The broker's options that `ZmqServer` takes as they are: `zmqServerOptionSpecs`
 * spreads them (with `--help` groups and flags), and `ZmqServer` hands their values
 * to its {@link Broker} by these keys. A broker option that a server should offer
 * goes here; one that only code using a `Broker` sets goes in {@link brokerOptionSpecs}.
 */
export const brokerServerOptionSpecs = {
  /** Milliseconds a worker may hold a job before the client gets 504; `0` disables it. */
  jobTimeout: duration({ description: 'longest a job may run before 504 and a new worker (0: no limit)', default: 30_000, whole: true, group: 'Jobs' }),
  /** Requests that may wait for a worker, over all services; past it a request gets 503 at once. */
  maxQueue: integer({ description: 'requests waiting for a worker, at most (past it: 503)', default: 10_000, group: 'Jobs', scope: 'broker' }),
  /**
   * Requests one client (one frontend connection) may have waiting, over all services;
   * past it that client's next request gets 503 at once, with a body that says why.
   */
  maxQueuePerClient: integer({ description: 'requests one client may have waiting (past it: 503)', default: 1000, min: 1, group: 'Jobs', scope: 'broker' }),
  /**
   * Milliseconds a request may wait for a worker, counted from when the broker accepted
   * it; then it leaves the queue and gets 503, with a body that says it waited too
   * long. `0`: no limit.
   */
  queueTimeout: duration({ description: 'longest a request may wait for a worker before 503 (0: no limit)', default: 30_000, whole: true, group: 'Jobs', scope: 'broker' }),
  /**
   * Bytes of replies the broker holds for one client that does not read them (its
   * pipe full); past it, further replies to that client are dropped and counted.
   */
  maxClientBuffer: integer({ description: 'bytes of replies held for a client that does not read (past it: dropped)', default: 4 * 1024 * 1024, min: 1, group: 'Jobs', scope: 'broker' }),
  /** Services one worker may offer in its READY; a READY with more is refused (DISCONNECT). */
  maxServicesPerWorker: integer({ description: 'services one worker may offer (past it: READY refused)', default: 64, min: 1, group: 'Jobs', scope: 'broker' }),
  /** Services the broker knows at once; a READY that would add more is refused (DISCONNECT). */
  maxServices: integer({ description: 'services the broker knows at once (past it: READY refused)', default: 1000, min: 1, group: 'Jobs', scope: 'broker' }),
  /** Largest request body in bytes, all body frames together; a larger one gets 413. */
  maxMessageSize: integer({ description: 'largest request body in bytes (past it: 413)', default: 1024 * 1024, min: 1, group: 'Jobs', scope: 'broker' }),
  /** On worker loss, send the job to another worker once instead of answering 502. */
  requeue: boolean({ description: 'requeue a job once when its worker dies, instead of 502', default: false, group: 'Jobs', scope: 'broker' }),
  /**
   * Milliseconds after `bind()` during which requests for a service that no worker has
   * offered yet wait in the queue; after it they get 404 at once. Defaults to
   * `heartbeatInterval * heartbeatLiveness`.
   */
  serviceGrace: duration<number | undefined>({ description: 'how long requests for a service not offered yet wait', default: undefined, whole: true, group: 'Jobs', scope: 'broker' }),
  /** Milliseconds between heartbeats, both ways (RFC 7 `HEARTBEAT_INTERVAL`). */
  heartbeatInterval: duration({ description: 'heartbeat period both ways', default: 2500, min: 1, whole: true, group: 'Jobs' }),
  /** Heartbeats an idle peer may miss before it counts as dead (RFC 7 `HEARTBEAT_LIVENESS`). */
  heartbeatLiveness: integer({ description: 'missed heartbeats before a peer is dead', default: 3, min: 1, group: 'Jobs' }),
  /**
   * Which worker takes which job, and which waiting job a worker that became free takes
   * (`docs/zmq.md`, "Dispatch policy"). Default: `leastRecentlyUsed`; a server also
   * looks for the `DISPATCH_POLICY` token in its container. Code only.
   */
  dispatchPolicy: custom<DispatchPolicy | undefined>({ description: 'which worker takes which job (a DispatchPolicy)', default: undefined, check: checkDispatchPolicy })
} satisfies OptionSpecs

/** Every option of a {@link Broker}, declared once: {@link BrokerOptions} and the rest follow from it. */
export const brokerOptionSpecs = {
  /** Endpoint the frontend ROUTER binds, for clients (Perl: `port`, first entry). */
  frontend: endpointOption({ description: 'frontend endpoint, for clients', default: 'tcp://127.0.0.1:*', group: 'Sockets', scope: 'broker' }),
  /** Endpoint the backend ROUTER binds, for workers (Perl: `port`, second entry). */
  backend: endpointOption({ description: 'backend endpoint, for workers', default: 'tcp://127.0.0.1:*', group: 'Sockets', scope: 'broker' }),
  /** Service that plain REQ requests, and requests with an empty service frame, go to. */
  defaultService: serviceNameOption({ description: 'the default service: plain REQ requests go here', default: DEFAULT_SERVICE, group: 'Sockets', placeholder: '<name>' }),
  /** Services that requests may queue for before any worker has offered them. */
  services: serviceList({ description: 'services requests may queue for before a worker offers them', default: Object.freeze([]), min: 0 }),
  ...brokerServerOptionSpecs,
  /** Milliseconds the sockets may keep flushing replies after `close()` (libzmq `ZMQ_LINGER`). */
  linger: integer({ description: 'how long the sockets may flush replies after close()', default: LINGER_MS }),
  /**
   * Further zeromq.js options of the frontend ROUTER, set before it binds: CURVE
   * (`curveServerSocketOptions`) and `zapDomain` (`zapSocketOptions`). The broker's own
   * settings (`mandatory`, `sendTimeout`, `linger` …) take precedence.
   */
  frontendSocketOptions: socketOptions<SocketOptions<Router>>('further zeromq.js options of the frontend ROUTER'),
  /** Further zeromq.js options of the backend ROUTER, as `frontendSocketOptions`. */
  backendSocketOptions: socketOptions<SocketOptions<Router>>('further zeromq.js options of the backend ROUTER')
} satisfies OptionSpecs

type BrokerOptionValues = OptionValues<typeof brokerOptionSpecs>

/** Options of a {@link Broker}, as a user passes them (see {@link brokerOptionSpecs}). */
export type BrokerOptions = Options<BrokerOptionValues>

/** {@link BrokerOptions} with every field filled in. */
export interface ResolvedBrokerOptions extends Omit<BrokerOptionValues, 'serviceGrace'> {
  /** As {@link BrokerOptions.serviceGrace}; resolved to `heartbeatInterval * heartbeatLiveness` when not set. */
  readonly serviceGrace: number
}

/** Defaults of {@link BrokerOptions}; `serviceGrace` is derived from the heartbeat settings. */
export const BROKER_DEFAULTS: Readonly<Omit<ResolvedBrokerOptions, 'serviceGrace'>> = withoutKey(optionDefaults(brokerOptionSpecs), 'serviceGrace')

/** Validates `options` and fills in the defaults; throws TypeError or RangeError naming the field. */
export function resolveBrokerOptions (options: BrokerOptions = {}): ResolvedBrokerOptions {
  const o = resolveTable<BrokerOptionValues>(brokerOptionSpecs, options)
  return Object.freeze({ ...o, serviceGrace: o.serviceGrace ?? o.heartbeatInterval * o.heartbeatLiveness })
}

// ---------------------------------------------------------------------------
// The worker agent

/** `concurrency`: the jobs one worker runs at once, from 1 to {@link MAX_SLOTS}. */
export const concurrencyOption = integer({ description: `jobs one worker runs at once (1 to ${MAX_SLOTS}; more for jobs that wait on I/O)`, default: 1, min: 1, max: MAX_SLOTS, group: 'Workers' })

/** Every option of a {@link WorkerAgent}, declared once: {@link WorkerAgentOptions} and the rest follow from it. */
export const workerAgentOptionSpecs = {
  /** The broker's backend endpoint to connect to (required). */
  endpoint: endpointOption({ description: 'the broker\'s backend endpoint to connect to', default: undefined }),
  /** Services this worker serves; the first goes in the READY service frame. */
  services: serviceList({ description: 'services this worker serves; the first goes in READY', default: Object.freeze([DEFAULT_SERVICE]), min: 1 }),
  /** Milliseconds between heartbeats, both ways; must match the broker's. */
  heartbeatInterval: brokerServerOptionSpecs.heartbeatInterval,
  /** Heartbeats from the broker that may be missed before the worker reconnects. */
  heartbeatLiveness: brokerServerOptionSpecs.heartbeatLiveness,
  /** First reconnect delay in milliseconds; it doubles after each failed attempt. */
  reconnectInterval: duration({ description: 'first reconnect delay; it doubles after each failed attempt', default: 1000, min: 1, whole: true }),
  /** Longest reconnect delay in milliseconds. */
  reconnectMaxInterval: duration({ description: 'longest reconnect delay', default: 32_000, min: 1, whole: true }),
  /**
   * Jobs this worker runs at once: the slots it tells the broker (CREDIT). 1, the
   * default, suits CPU-bound jobs; jobs that wait on I/O gain from more.
   */
  concurrency: concurrencyOption,
  /** Announce the project's READY extension (pid, services, reply status). */
  extension: boolean({ description: 'announce the READY extension (pid, services, reply status)', default: true }),
  /**
   * Take the compact framing when the broker's ACK offers it: REQUEST and REPLY in one
   * header frame plus the body. Without the extension it is never offered.
   */
  compactFraming: boolean({ description: 'take the compact framing that the broker\'s ACK offers', default: true }),
  /** Milliseconds the socket may keep flushing a last reply and DISCONNECT on close. */
  linger: integer({ description: 'how long the socket may flush a last reply and DISCONNECT on close', default: LINGER_MS }),
  /**
   * Further zeromq.js options of the DEALER, set at each (re)connect before it
   * connects: CURVE (`curveClientSocketOptions`). The agent's `linger` takes precedence.
   */
  socketOptions: socketOptions<SocketOptions<Dealer>>('further zeromq.js options of the DEALER'),
  /**
   * Each connection's routing id starts with this text, followed by random bytes (a
   * fresh id per connection). A server tells its own children's workers from remote
   * ones by it. Default: libzmq picks the id.
   */
  routingIdPrefix: custom<string | undefined>({
    description: 'the start of each connection\'s routing id',
    default: undefined,
    check: (value, name) => {
      if (value === undefined) return undefined
      // libzmq takes routing ids of 1 to 255 bytes; 12 random bytes follow the prefix.
      if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > 200 || value.charCodeAt(0) === 0) {
        throw new TypeError(`options.${name} must be a non-empty string of at most 200 bytes, not starting with a zero byte`)
      }
      return value
    }
  })
} satisfies OptionSpecs

/** {@link WorkerAgentOptions} with every field filled in. */
export interface ResolvedWorkerAgentOptions extends OptionValues<typeof workerAgentOptionSpecs> {}

/** Options of a {@link WorkerAgent}, as a user passes them (see {@link workerAgentOptionSpecs}); `endpoint` is required. */
export type WorkerAgentOptions = Options<ResolvedWorkerAgentOptions> & Required<Pick<Options<ResolvedWorkerAgentOptions>, 'endpoint'>>

/** Defaults of {@link WorkerAgentOptions}. */
export const WORKER_AGENT_DEFAULTS: Readonly<Omit<ResolvedWorkerAgentOptions, 'endpoint'>> = withoutKey(optionDefaults(workerAgentOptionSpecs), 'endpoint')

/** Validates `options` and fills in the defaults; throws TypeError or RangeError naming the field. */
export function resolveWorkerAgentOptions (options: WorkerAgentOptions): ResolvedWorkerAgentOptions {
  const o = resolveTable<ResolvedWorkerAgentOptions>(workerAgentOptionSpecs, options)
  if (o.reconnectMaxInterval < o.reconnectInterval) {
    throw new RangeError('options.reconnectMaxInterval must not be less than options.reconnectInterval')
  }
  return o
}

// ---------------------------------------------------------------------------

/**
 * Core's resolution with `options` as the one source. Names the table does not know
 * are left alone, as they always were: a server hands its own options through.
 */
function resolveTable<T> (specs: OptionSpecs, options: object): T {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object')
  const known = Object.fromEntries(Object.entries(options).filter(([name]) => Object.hasOwn(specs, name)))
  return resolveOptions<T>(specs, { constructor: known })
}

function withoutKey<T extends object, K extends keyof T> (object: T, key: K): Readonly<Omit<T, K>> {
  const { [key]: _, ...rest } = object
  return Object.freeze(rest)
}
