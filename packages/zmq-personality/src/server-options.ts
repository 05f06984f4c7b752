import {
  boolean, custom, describe, duration, integer, serverOptionSpecs, string, stringList,
  type OptionSpec, type Options, type OptionSpecs, type OptionValues
} from '@net-server/core'
import { preForkOptionSpecs, type ResolvedPreForkOptions } from '@net-server/prefork'
import { checkApp, echo, type App } from './app.js'
import { isCurveKey } from './security/curve.js'
import { brokerOptionSpecs, brokerServerOptionSpecs, concurrencyOption, endpointOption } from './options.js'

/**
 * Options of {@link ZmqServer}, after resolution: prefork's, the broker's that it
 * passes through ({@link brokerServerOptionSpecs}: `jobTimeout`, `maxQueue`,
 * `heartbeatInterval` …) and its own.
 */
export interface ResolvedZmqServerOptions extends ResolvedPreForkOptions, OptionValues<typeof brokerServerOptionSpecs> {
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
  /** Where `nsz status` reaches the broker; default `ipc://<pidFile>.sock` when there is a pid file. */
  readonly controlEndpoint: string | undefined
  /** The TCP port of the Prometheus endpoint (`GET /metrics`); 0 picks a free one; none by default. */
  readonly metricsPort: number | undefined
  /** The address the metrics endpoint listens on. */
  readonly metricsHost: string
  /** Serve the live dashboard at `/` of the metrics endpoint (`docs/dashboard.md`); read-only unless `dashboardActions`. */
  readonly dashboard: boolean
  /** Let the dashboard add or remove a worker and restart the pool, for requests that carry `dashboardToken`. */
  readonly dashboardActions: boolean
  /** The bearer token the dashboard's actions need (at least 16 characters); never logged. */
  readonly dashboardToken: string | undefined
  /**
   * Jobs each worker runs at once (1 to 1024): the per-request steps of up to that many
   * jobs interleave in one child. 1, the default, suits CPU-bound jobs.
   */
  readonly concurrency: number
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
  /**
   * Public keys (Z85) of the remote workers admitted on the backend (CURVE); the
   * server's own children are always admitted. Empty: no remote worker, unless
   * `insecureBackend`.
   */
  readonly workerKeys: readonly string[]
  /**
   * Admit any worker that reaches the backend endpoint, without a key list (with
   * CURVE on the backend: any worker that knows the server's public key). Such a
   * worker receives client payloads and its replies reach clients: for trusted
   * networks only (`docs/security.md`).
   */
  readonly insecureBackend: boolean
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

/** The shortest dashboard token: a guess must not be within reach. */
const MIN_TOKEN_LENGTH = 16

/** The dashboard's token; never echoed in an error, since error messages end up in logs. */
const dashboardToken: OptionSpec<string | undefined> = {
  kind: 'string',
  description: 'bearer token the dashboard\'s actions need (16 characters or more; prefer a conf file)',
  default: undefined,
  group: 'Sockets',
  placeholder: '<token>',
  scope: 'broker',
  parse: (raw) => raw.trim(),
  validate: (value, name) => {
    if (value === undefined) return undefined
    if (typeof value !== 'string') throw new TypeError(`options.${name} must be a string`)
    if (value.length < MIN_TOKEN_LENGTH || /\s/.test(value)) throw new RangeError(`options.${name} must be at least ${MIN_TOKEN_LENGTH} characters, without spaces`)
    return value
  }
}

/**
 * The dashboard's options together: it is served by the metrics endpoint, and its
 * actions need it on and a token.
 */
export function checkDashboardOptions (o: Pick<ResolvedZmqServerOptions, 'dashboard' | 'dashboardActions' | 'dashboardToken' | 'metricsPort'>): void {
  if (o.dashboard && o.metricsPort === undefined) throw new RangeError('options.dashboard needs options.metricsPort: the dashboard is served at / of the metrics endpoint')
  if (o.dashboardActions && !o.dashboard) throw new RangeError('options.dashboardActions needs options.dashboard')
  if (o.dashboardActions && o.dashboardToken === undefined) throw new RangeError('options.dashboardActions needs options.dashboardToken: actions are taken only for requests that carry it')
}

/** A CURVE secret key in Z85; never echoed in an error, since error messages end up in logs. */
function curveSecretKey (description: string): OptionSpec<string | undefined> {
  return {
    kind: 'string',
    description,
    default: undefined,
    group: 'Security',
    parse: (raw) => raw.trim(),
    validate: (value, name) => {
      if (value === undefined) return undefined
      if (!isCurveKey(value)) throw new TypeError(`options.${name} must be a 40-character Z85 key`)
      return value
    }
  }
}

function keyList (description: string): OptionSpec<readonly string[]> {
  return stringList({
    description,
    default: [],
    group: 'Security',
    scope: 'broker',
    item: (value, name) => {
      if (!isCurveKey(value)) throw new TypeError(`options.${name} must hold 40-character Z85 public keys, got ${describe(value)}`)
    }
  })
}

/** Core's access rules: the broker's ZAP handler applies them, a worker never sees a peer. */
function accessRules (): OptionSpecs {
  const core = serverOptionSpecs()
  return Object.fromEntries(['allow', 'deny', 'cidrAllow', 'cidrDeny'].map((name) => [name, { ...core[name]!, scope: 'broker' }]))
}

/**
 * The options {@link ZmqServer} adds to prefork's: the broker's (spread from its table,
 * with the differences below), the seed's `app`, the security options and a different
 * `maxRequests` default. Each spec carries its `--help` group; `scope: 'broker'` marks
 * those that `nsz worker`, which runs no broker, leaves out.
 */
export function zmqServerOptionSpecs (): OptionSpecs {
  return {
    // Net::Server::PreFork recycles a child every 1000 requests. A Node worker costs a
    // few hundred milliseconds to start and a job server may run thousands of jobs a
    // second, so recycling is off unless asked for (gunicorn's default too).
    maxRequests: integer({ ...preForkOptionSpecs().maxRequests!, description: 'jobs a worker serves before it is replaced (0: no limit)', default: 0 }),
    concurrency: concurrencyOption,
    // A pool of workers does not see the queue of its broker elsewhere.
    scaleUpWait: { ...preForkOptionSpecs().scaleUpWait!, scope: 'broker' },
    scaleUpCooldown: { ...preForkOptionSpecs().scaleUpCooldown!, scope: 'broker' },
    ...accessRules(),
    port: {
      description: 'frontend and backend ports, e.g. 6660,6661 (0 picks a free port)',
      default: [6660, 6661],
      group: 'Sockets',
      placeholder: '<front,back>',
      scope: 'broker',
      // Number() ignores white space around the digits: ' 6660, 6661' reads as it looks.
      parse: (raw) => raw.split(',').map((p) => Number(p)),
      validate: checkPort
    },
    host: string({ description: 'address both sockets bind to', default: '127.0.0.1', nonEmpty: true, group: 'Sockets', placeholder: '<address>', scope: 'broker' }),
    // The broker binds 127.0.0.1 with a free port by default; a server derives its
    // endpoints from host and port instead, unless these are given.
    frontend: endpointOption({ ...brokerOptionSpecs.frontend, description: 'frontend endpoint, overrides host and port (tcp://…, ipc://…)', default: undefined, optional: true }),
    backend: endpointOption({ ...brokerOptionSpecs.backend, description: 'backend endpoint, overrides host and port', default: undefined, optional: true }),
    app: custom<App>({ description: 'the job function, or an object of service name to job function', default: echo, check: checkApp }),
    // The broker's defaultService, under the seed's name.
    service: brokerOptionSpecs.defaultService,
    ...brokerServerOptionSpecs,
    // A server's heartbeats are at least 10 ms apart (0.01 on the command line); a
    // Broker built in code takes down to 1 ms.
    heartbeatInterval: duration({ ...brokerServerOptionSpecs.heartbeatInterval, min: 10 }),
    controlEndpoint: endpointOption({ description: 'endpoint for nsz status (default ipc://<pidFile>.sock)', default: undefined, optional: true, group: 'Sockets' }),
    metricsPort: integer<number | undefined>({ description: 'serve Prometheus metrics at http://<metrics-host>:<port>/metrics (0 picks a free port)', default: undefined, max: 65535, group: 'Sockets', placeholder: '<port>', scope: 'broker' }),
    metricsHost: string({ description: 'address the metrics endpoint listens on', default: '127.0.0.1', nonEmpty: true, group: 'Sockets', placeholder: '<address>', scope: 'broker' }),
    dashboard: boolean({ description: 'serve a live dashboard of the pool at / of the metrics endpoint', default: false, group: 'Sockets', scope: 'broker' }),
    dashboardActions: boolean({ description: 'let the dashboard add or remove a worker and restart the pool (needs --dashboard-token)', default: false, group: 'Sockets', scope: 'broker' }),
    dashboardToken,
    curve: string<CurveSockets | undefined>({
      description: 'sockets CURVE encrypts: frontend, backend, both, none (default both with a key)',
      default: undefined,
      choices: ['frontend', 'backend', 'both', 'none'],
      group: 'Security',
      scope: 'broker'
    }) as OptionSpec<CurveSockets | undefined>,
    curveSecretKey: curveSecretKey('CURVE secret key of the broker sockets (Z85; a WorkerPool: of its workers)'),
    curveKeyFile: string<string | undefined>({ description: 'file holding the CURVE secret key (JSON or ZPL)', default: undefined, nonEmpty: true, group: 'Security', placeholder: '<file>' }),
    clientKeys: keyList('public keys of the clients admitted (default: any client with the server key)'),
    workerKeys: keyList('public keys of the remote workers admitted (default: none but the server\'s own children)'),
    insecureBackend: boolean({
      description: 'admit any worker on the backend endpoint, no key needed (trusted networks only)',
      default: false,
      group: 'Security',
      scope: 'broker'
    })
  }
}
