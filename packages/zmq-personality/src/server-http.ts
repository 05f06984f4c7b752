/**
 * The broker's HTTP endpoint, as a server wires it: the Prometheus metrics at
 * `/metrics` and, with `dashboard`, the live dashboard at `/` with its API. Both learn
 * each job's end through the broker's one job observer; the dashboard also listens to
 * the pool's and the broker's events for its lists of errors and workers.
 * @internal
 */
import type { EventEmitter } from 'eventemitter3'
import type { LogLevel, ServerEvents } from '@net-server/core'
import type { Broker } from './broker.js'
import { DashboardEndpoint, isLoopbackName, type DashboardActionName } from './dashboard-endpoint.js'
import { DashboardState, type DashboardMemory } from './dashboard-state.js'
import { ServerMetrics } from './metrics.js'
import { serveMetrics } from './metrics-endpoint.js'
import { hostOf } from './server-status.js'
import type { ResolvedZmqServerOptions } from './server-options.js'
import type { JobObserver, WorkerInfo, ZmqServerStatus } from './types.js'

/** What the endpoint needs of its server: `ZmqServer`'s public side. */
export interface HttpEndpointServer extends EventEmitter<ServerEvents> {
  readonly options: ResolvedZmqServerOptions
  readonly limits: { readonly minServers: number, readonly maxServers: number }
  /** Rolling restarts so far. */
  readonly generation: number
  status (): ZmqServerStatus
  increaseServers (): void
  decreaseServers (): void
  restartChildren (): void
  log (level: LogLevel, message: string): void
}

/** What the endpoint needs to know of the server that it does not show. */
export interface HttpEndpointHost {
  /** The services of the server's own app. */
  readonly appServices: readonly string[]
  /** True for a worker of one of the server's own children. */
  isLocal (worker: WorkerInfo): boolean
}

/** A listening endpoint. */
export interface HttpEndpoint {
  /** `metricsUrl`, `http://host:port/metrics`, and with `dashboard`, `dashboardUrl`, `http://host:port/`. */
  readonly urls: { readonly metricsUrl: string, readonly dashboardUrl?: string }
  close (): Promise<void>
}

/** One service on the page: its workers, and its queue. */
export interface DashboardService {
  readonly name: string
  readonly workers: number
  readonly idle: number
  readonly queued: number
  /** Seconds the request waiting longest has waited; `null` when none waits. */
  readonly oldestWait: number | null
}

/** What `/api/status` answers and `/api/events` pushes. */
export interface DashboardSnapshot extends DashboardMemory {
  /** When it was taken (ms since the epoch). */
  readonly at: number
  readonly status: ZmqServerStatus
  /** Rolling restarts (HUP) so far. */
  readonly generation: number
  readonly services: readonly DashboardService[]
  /** The options that shape the pool, by name (durations in ms). */
  readonly options: Readonly<Record<string, string | number | boolean | null>>
  /** Whether the page may offer actions (they still need the token). */
  readonly actionsEnabled: boolean
}

/** The options the page shows, when the server has them. */
const SHOWN_OPTIONS = [
  'minServers', 'maxServers', 'minSpareServers', 'maxSpareServers', 'concurrency', 'maxRequests', 'jobTimeout', 'queueTimeout', 'maxQueue',
  'maxQueuePerClient', 'heartbeatInterval', 'heartbeatLiveness', 'gracefulTimeout', 'scaleUpWait', 'requeue', 'curve', 'insecureBackend'
] as const

/** Serves `/metrics` (and the dashboard, with `dashboard`) on `metricsHost:metricsPort`; logs the URLs. */
export async function serveHttp (server: HttpEndpointServer, broker: Broker, host: HttpEndpointHost): Promise<HttpEndpoint> {
  const o = server.options
  const metrics = new ServerMetrics(() => server.status())
  const state = o.dashboard ? new DashboardState() : undefined
  const observer: JobObserver = state === undefined
    ? metrics.observer
    : (service, status, wait, run) => {
        metrics.observer(service, status, wait, run)
        state.jobEnded(service, status, run)
        // The queue depth, read once a second at most while jobs end.
        if (!state.history.queueReadThisSecond()) state.history.queueDepth(broker.stats().queued)
      }
  broker.observeJobs(observer)
  const dashboard = state === undefined ? undefined : dashboardOf(server, broker, host, state)
  const log = (message: string): void => { server.log(1, message) }
  const endpoint = await serveMetrics(o.metricsHost, o.metricsPort!, metrics.registry.contentType, () => metrics.text(), log,
    dashboard === undefined ? undefined : (req, res, path) => dashboard.handle(req, res, path))
  const dashboardUrl = dashboard === undefined ? undefined : endpoint.url.replace(/\/metrics$/, '/')
  server.log(2, `metrics at ${endpoint.url}`)
  if (dashboardUrl !== undefined) server.log(2, `dashboard at ${dashboardUrl}${o.dashboardActions ? ' (actions on)' : ''}`)
  return {
    urls: { metricsUrl: endpoint.url, ...(dashboardUrl === undefined ? {} : { dashboardUrl }) },
    close: async () => {
      dashboard?.close()
      await endpoint.close()
    }
  }
}

/** What the dashboard's actions do: what TTIN, TTOU and HUP do. */
function act (server: HttpEndpointServer, action: DashboardActionName): string {
  if (action === 'restart') {
    server.restartChildren()
    return `rolling restart (generation ${server.generation})`
  }
  if (action === 'more') server.increaseServers()
  else server.decreaseServers()
  return `minServers ${server.limits.minServers}, maxServers ${server.limits.maxServers}`
}

/** The dashboard of `server`, fed by its events and its broker's. */
function dashboardOf (server: HttpEndpointServer, broker: Broker, host: HttpEndpointHost, state: DashboardState): DashboardEndpoint {
  const o = server.options
  const endpoint = new DashboardEndpoint({
    snapshot: () => snapshot(server, broker, host, state),
    act: (action) => act(server, action),
    record: (action, from, result) => { state.action(action, from, result) },
    log: (level, message) => { server.log(level, message) }
  }, { actions: o.dashboardActions, token: o.dashboardToken, loopback: isLoopbackName(o.metricsHost) })
  state.onChange(() => { endpoint.changed() })
  // Children the pool told to stop: their exit owes no replacement.
  const stopping = new Set<number>()
  server.on('childSpawn', (pid) => { state.childSpawned(pid) })
  server.on('childState', (pid, s) => { if (s === 'exiting') stopping.add(pid) })
  server.on('childExit', (pid, code, signal) => {
    state.childExited(pid, code, signal, stopping.delete(pid))
  })
  broker.on('workerReady', (w) => { if (!host.isLocal(w)) state.remoteWorker('join', remote(w)) })
  broker.on('workerGone', (w, reason) => {
    if (!host.isLocal(w)) state.remoteWorker('gone', remote(w), reason)
  })
  broker.on('loss', (kind, _peer, detail) => {
    // A lost job is listed as its 502, a worker dropped for a timeout as its 504; a
    // reply that found its client gone is no error of the pool.
    if (kind === 'jobLost' || kind === 'workerDropped:timeout' || kind.startsWith('undelivered:')) return
    state.error(kind, detail)
  })
  broker.on('protocolError', (side, _peer, reason) => {
    // The frontend's are refusals (`refused:malformed`), listed already.
    if (side === 'backend') state.error('protocol:backend', reason)
  })
  return endpoint
}

function remote (w: WorkerInfo): { id: string, pid: number | undefined, hostname: string | undefined } {
  return { id: w.id, pid: w.pid, hostname: hostOf(w.id) }
}

function snapshot (server: HttpEndpointServer, broker: Broker, host: HttpEndpointHost, state: DashboardState): DashboardSnapshot {
  const status = server.status()
  const now = Date.now()
  // Read by the page as it asks: the queue depth has a point in every second a page is open.
  state.history.queueDepth(status.queued)
  return {
    at: now,
    status,
    generation: server.generation,
    services: services(broker, host, status, now),
    options: shownOptions(server.options, status),
    actionsEnabled: server.options.dashboardActions,
    ...state.memory()
  }
}

function services (broker: Broker, host: HttpEndpointHost, status: ZmqServerStatus, now: number): DashboardService[] {
  const byName = new Map<string, { workers: number, idle: number }>()
  const add = (name: string): { workers: number, idle: number } => {
    let s = byName.get(name)
    if (s === undefined) {
      s = { workers: 0, idle: 0 }
      byName.set(name, s)
    }
    return s
  }
  for (const name of host.appServices) add(name)
  for (const name of Object.keys(status.queuedByService)) add(name)
  for (const w of broker.workers()) {
    for (const name of w.services) {
      const s = add(name)
      s.workers++
      if (w.state === 'idle') s.idle++
    }
  }
  return [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => {
    const at = broker.oldestQueuedAt(name)
    return { name, ...s, queued: status.queuedByService[name] ?? 0, oldestWait: at === undefined ? null : Math.max(0, now - at) / 1000 }
  })
}

function shownOptions (o: ResolvedZmqServerOptions, status: ZmqServerStatus): Record<string, string | number | boolean | null> {
  const shown: Record<string, string | number | boolean | null> = {}
  const values = o as unknown as Readonly<Record<string, unknown>>
  for (const name of SHOWN_OPTIONS) {
    const value = values[name]
    if (value === undefined || value === null) shown[name] = null
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') shown[name] = value
  }
  // The bounds as TTIN / TTOU (and the page's actions) moved them.
  shown.minServers = status.limits.minServers
  shown.maxServers = status.limits.maxServers
  return shown
}
