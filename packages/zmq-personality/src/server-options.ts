import { DEFAULT_SERVICE } from '@net-server/client'
import { boolean, custom, describe, duration, integer, string, stringList, type OptionSpec, type Options, type OptionSpecs } from '@net-server/core'
import type { ResolvedPreForkOptions } from '@net-server/prefork'
import { checkApp, echo, type App } from './app.js'
import { isCurveKey } from './security/curve.js'
import { checkEndpoint } from './endpoints.js'
import { checkDispatchPolicy, type DispatchPolicy } from './dispatch.js'
import { BROKER_DEFAULTS } from './options.js'

/** Options of {@link ZmqServer}, after resolution. */
export interface ResolvedZmqServerOptions extends ResolvedPreForkOptions {
  /** The seed's `port`: `[frontend, backend]`; 0 picks a free port. */
  readonly port: readonly [number, number]
  /** Net::Server `host`: the address both sockets bind to. */
  readonly host: string
  /** A full frontend endpoint (`ipc://…`, `tcp://…`) instead of host and port. */
  readonly frontend: string | undefined
  /** A full backend endpoint instead of host and port. */
  readonly backend: string | undefined
  /** The seed's `app`: the job function, or one per service. */
  readonly app: App
  /** The service that plain REQ requests go to, and a bare job function serves. */
  readonly service: string
  /** Heartbeat period both ways, ms (RFC 7's default 2500). */
  readonly heartbeatInterval: number
  /** Missed heartbeats before a peer is dead (RFC 7's default 3). */
  readonly heartbeatLiveness: number
  /** A job running longer gets 504 and its worker is replaced, ms; 0 never. */
  readonly jobTimeout: number
  /** Requests waiting for a worker, at most; past it 503 at once. */
  readonly maxQueue: number
  /** Largest request body in bytes; larger ones get 413. */
  readonly maxMessageSize: number
  /** Requeue a job once when its worker dies, instead of answering 502. */
  readonly requeue: boolean
  /** How long requests for a service no worker offered yet wait, ms (default: heartbeat interval × liveness). */
  readonly serviceGrace: number | undefined
  /** Where `nsz status` reaches the broker; default `ipc://<pidFile>.sock` when there is a pid file. */
  readonly controlEndpoint: string | undefined
  /**
   * The broker's CURVE secret key in Z85 (libzmq `ZMQ_CURVE_SECRETKEY` on its ROUTERs);
   * in a {@link WorkerPool}, the workers' own secret key. Or use `curveKeyFile`.
   */
  readonly curveSecretKey: string | undefined
  /** A key file holding that secret key (JSON or ZPL, see `readKeyFile`), read before binding. */
  readonly curveKeyFile: string | undefined
  /**
   * Which broker sockets CURVE encrypts (libzmq `ZMQ_CURVE_SERVER`); default `both`
   * when a secret key is given, else `none`.
   */
  readonly curve: CurveSockets | undefined
  /** Public keys (Z85) of the clients admitted on the frontend; empty: any client that knows the server key. */
  readonly clientKeys: readonly string[]
  /** Public keys (Z85) of the workers admitted on the backend; the local children are always admitted. */
  readonly workerKeys: readonly string[]
  /** Which worker takes which job; code only. Default: the `DISPATCH_POLICY` token, else `leastRecentlyUsed`. */
  readonly dispatchPolicy: DispatchPolicy | undefined
}

/** Which of the broker's sockets CURVE encrypts. */
export type CurveSockets = 'frontend' | 'backend' | 'both' | 'none'

/** Options of {@link ZmqServer}, as a user passes them. */
export type ZmqServerOptions = Options<ResolvedZmqServerOptions>

function checkPort (value: unknown, name: string): readonly [number, number] {
  const list = typeof value === 'number' ? [value, value + 1] : value
  if (!Array.isArray(list) || list.length !== 2) {
    throw new TypeError(`options.${name} must be [frontend port, backend port], got ${describe(value)}`)
  }
  for (const p of list) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
      throw new RangeError(`options.${name} must hold two ports from 0 to 65535, got ${describe(p)}`)
    }
  }
  if (list[0] === list[1] && list[0] !== 0) throw new RangeError(`options.${name}: the frontend and backend ports must differ, got ${String(list[0])} twice`)
  return Object.freeze([list[0], list[1]]) as readonly [number, number]
}

function optionalEndpoint (value: unknown, name: string): string | undefined {
  return checkEndpoint(value, name, { optional: true })
}

function curveKey (description: string, secret: boolean): OptionSpec<string | undefined> {
  return {
    kind: 'string',
    description,
    default: undefined,
    parse: (raw) => raw.trim(),
    validate: (value, name) => {
      if (value === undefined) return undefined
      // A secret key is never echoed: error messages end up in logs.
      if (!isCurveKey(value)) throw new TypeError(`options.${name} must be a 40-character Z85 key${secret ? '' : `, got ${describe(value)}`}`)
      return value
    }
  }
}

function keyList (description: string): OptionSpec<readonly string[]> {
  return stringList({
    description,
    default: [],
    item: (value, name) => {
      if (!isCurveKey(value)) throw new TypeError(`options.${name} must hold 40-character Z85 public keys, got ${describe(value)}`)
    }
  })
}

/**
 * The options {@link ZmqServer} adds to prefork's: the broker's, the seed's `app`,
 * and a different `maxRequests` default.
 */
export function zmqServerOptionSpecs (): OptionSpecs {
  return {
    // Net::Server::PreFork recycles a child every 1000 requests. A Node worker costs a
    // few hundred milliseconds to start and a job server may run thousands of jobs a
    // second, so recycling is off unless asked for (gunicorn's default too).
    maxRequests: integer({ description: 'jobs a worker serves before it is replaced (0: no limit)', default: 0, min: 0 }),
    port: {
      description: 'frontend and backend ports, e.g. 6660,6661 (0 picks a free port)',
      default: [6660, 6661],
      parse: (raw) => raw.split(',').map((p) => Number(p.trim())),
      validate: checkPort
    },
    host: string({ description: 'address both sockets bind to', default: '127.0.0.1', nonEmpty: true }),
    frontend: {
      description: 'frontend endpoint, overrides host and port (tcp://…, ipc://…)',
      default: undefined,
      parse: (raw) => raw,
      validate: optionalEndpoint
    },
    backend: {
      description: 'backend endpoint, overrides host and port',
      default: undefined,
      parse: (raw) => raw,
      validate: optionalEndpoint
    },
    app: custom<App>({ description: 'the job function, or an object of service name to job function', default: echo, check: checkApp }),
    service: string({ description: 'the default service: plain REQ requests go here', default: DEFAULT_SERVICE, nonEmpty: true }),
    heartbeatInterval: duration({ description: 'heartbeat period both ways', default: BROKER_DEFAULTS.heartbeatInterval, min: 10 }),
    heartbeatLiveness: integer({ description: 'missed heartbeats before a peer is dead', default: BROKER_DEFAULTS.heartbeatLiveness, min: 1 }),
    jobTimeout: duration({ description: 'longest a job may run before 504 and a new worker (0: no limit)', default: BROKER_DEFAULTS.jobTimeout }),
    maxQueue: integer({ description: 'requests waiting for a worker, at most (past it: 503)', default: BROKER_DEFAULTS.maxQueue }),
    maxMessageSize: integer({ description: 'largest request body in bytes (past it: 413)', default: BROKER_DEFAULTS.maxMessageSize, min: 1 }),
    requeue: boolean({ description: 'requeue a job once when its worker dies, instead of 502', default: BROKER_DEFAULTS.requeue }),
    serviceGrace: duration<number | undefined>({ description: 'how long requests for a service not offered yet wait', default: undefined }),
    controlEndpoint: {
      description: 'endpoint for nsz status (default ipc://<pidFile>.sock)',
      default: undefined,
      parse: (raw) => raw,
      validate: optionalEndpoint
    },
    curveSecretKey: curveKey('CURVE secret key of the broker sockets (Z85; a WorkerPool: of its workers)', true),
    curveKeyFile: string<string | undefined>({ description: 'file holding the CURVE secret key (JSON or ZPL)', default: undefined, nonEmpty: true }),
    curve: string<CurveSockets | undefined>({
      description: 'sockets CURVE encrypts: frontend, backend, both, none (default both with a key)',
      default: undefined,
      choices: ['frontend', 'backend', 'both', 'none']
    }) as OptionSpec<CurveSockets | undefined>,
    clientKeys: keyList('public keys of the clients admitted (default: any client with the server key)'),
    workerKeys: keyList('public keys of the remote workers admitted (default: any with the server key)'),
    dispatchPolicy: custom<DispatchPolicy | undefined>({ description: 'which worker takes which job (a DispatchPolicy)', default: undefined, check: checkDispatchPolicy })
  }
}
