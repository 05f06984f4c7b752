/**
 * What `nsz status` shows: the pool as the broker sees it, in one snapshot.
 * @internal
 */
import type { ChildInfo } from '@net-server/prefork'
import type { Broker } from './broker.js'
import { noLosses } from './loss-counters.js'
import type { BrokerEndpoints, RemoteWorkerStatus, WorkerInfo, ZmqServerStatus } from './types.js'

/** What a server knows of itself, for {@link poolStatus}. */
export interface StatusSource {
  /** The broker, in a server's parent; `undefined` in a `WorkerPool`. */
  readonly broker: Broker | undefined
  /** True for a worker of one of the server's own children. */
  readonly isLocal: (worker: WorkerInfo) => boolean
  readonly children: readonly ChildInfo[]
  readonly limits: ZmqServerStatus['limits']
  readonly concurrency: number
  readonly endpoints: BrokerEndpoints
  readonly jobsPerSecond: number
  readonly startedAt: number
  readonly childSpawns: number
  readonly childExits: number
  /** The HTTP endpoint's URLs, when it is served. */
  readonly urls: Pick<ZmqServerStatus, 'metricsUrl' | 'dashboardUrl'>
}

/** The status of a server: its children with their slots from the broker's table, the queue, the counters. */
export function poolStatus (src: StatusSource): ZmqServerStatus {
  const stats = src.broker?.stats()
  const workers = src.broker?.workers() ?? []
  const local = new Map(workers.filter((w) => w.pid !== undefined && src.isLocal(w)).map((w) => [w.pid!, w]))
  const now = Date.now()
  return {
    pid: process.pid,
    title: process.title,
    ...src.endpoints,
    uptime: (now - src.startedAt) / 1000,
    limits: src.limits,
    children: src.children.map((c) => {
      const w = local.get(c.pid)
      // A child whose worker is not in the table (yet) has its configured slots, none in use.
      const slots = w === undefined ? { slots: src.concurrency, ...(stats === undefined ? {} : { running: 0 }) } : { slots: w.slots, running: w.jobs }
      return { pid: c.pid, state: c.state, jobs: w?.served ?? c.jobs, ...slots, age: (now - c.startedAt) / 1000 }
    }),
    slots: stats === undefined ? { total: src.children.length * src.concurrency } : { total: stats.slots, inUse: stats.slotsInUse },
    remoteWorkers: workers.length - local.size,
    remote: workers.filter((w) => !src.isLocal(w)).map((w) => remoteStatus(w, now)),
    queued: stats?.queued ?? 0,
    inFlight: stats?.inFlight ?? 0,
    served: stats?.served ?? 0,
    jobsPerSecond: src.jobsPerSecond,
    errors: stats?.errors ?? {},
    heldBytes: stats?.heldBytes ?? 0,
    losses: stats?.losses ?? noLosses(),
    jobs: stats?.jobs ?? {},
    queuedByService: stats?.queuedByService ?? {},
    workersByHost: byHost(workers, src.isLocal),
    protocolErrors: stats?.protocolErrors ?? 0,
    jobTimeouts: stats?.jobTimeouts ?? 0,
    requeued: stats?.requeued ?? 0,
    declines: stats?.declines ?? 0,
    childSpawns: src.childSpawns,
    childExits: src.childExits,
    ...src.urls
  }
}

function byHost (workers: readonly WorkerInfo[], isLocal: (w: WorkerInfo) => boolean): ZmqServerStatus['workersByHost'] {
  const counts = { local: { idle: 0, busy: 0 }, remote: { idle: 0, busy: 0 } }
  for (const w of workers) counts[isLocal(w) ? 'local' : 'remote'][w.state]++
  return counts
}

/** A host label: 1 to 64 printable ASCII characters, no space and no `/` (which ends it in a routing id). */
export const HOST_LABEL = /^[\x21-\x2e\x30-\x7e]{1,64}$/

/**
 * The host a worker's routing id names: a pool of ours (`WorkerPool`) starts its
 * workers' routing ids with `<hostLabel>/`, its host name by default. The peer chose
 * it: a label, not a proof.
 */
export function hostOf (id: string): string | undefined {
  const text = Buffer.from(id, 'hex').toString('latin1')
  const end = text.indexOf('/')
  const label = end < 0 ? '' : text.slice(0, end)
  return HOST_LABEL.test(label) ? label : undefined
}

function remoteStatus (w: WorkerInfo, now: number): RemoteWorkerStatus {
  const host = hostOf(w.id)
  return {
    id: w.id,
    ...(host === undefined ? {} : { host }),
    ...(w.pid === undefined ? {} : { pid: w.pid }),
    services: w.services,
    state: w.state,
    running: w.jobs,
    slots: w.slots,
    served: w.served,
    age: (now - w.connectedAt) / 1000
  }
}
