/**
 * Types the broker, its tables, its events and the server share: snapshots of the
 * worker table, the broker's counters, and the reasons a worker leaves.
 */
import type { RequestContext } from '@net-server/core'
import type { Job } from './agent-job.js'

/** Whether a worker holds no job, or at least one. */
export type WorkerState = 'idle' | 'busy'

/**
 * Why a worker left the pool:
 * - `expired`: idle and silent for `heartbeatLiveness` heartbeats;
 * - `disconnect`: it sent DISCONNECT;
 * - `timeout`: one of its jobs ran past `jobTimeout` (at once, or once its other jobs were answered: see `docs/zmq.md`);
 * - `protocol`: it broke the protocol (second READY, stray REPLY, malformed message);
 * - `unreachable`: a send to it failed;
 * - `retired`: {@link Broker.disconnectWorker} retired it;
 * - `drain`: {@link Broker.drain} timed out while it held a job;
 * - `close`: the broker closed.
 */
export type WorkerGoneReason = 'expired' | 'disconnect' | 'timeout' | 'protocol' | 'unreachable' | 'retired' | 'drain' | 'close'

/** A snapshot of one worker in the broker's table, for the prefork tally and `nsz status`. */
export interface WorkerInfo {
  /** The worker's routing id, in hex. */
  readonly id: string
  /** The worker's pid, when it announced the project's extension. */
  readonly pid: number | undefined
  /** Services it serves, the READY service first. */
  readonly services: readonly string[]
  /** True when it speaks the project's extension (status in REPLY, service in REQUEST). */
  readonly extended: boolean
  readonly state: WorkerState
  /** Jobs it takes at once (its `concurrency`, from its CREDIT; 1 for a plain MDP/0.1 worker). */
  readonly slots: number
  /** Jobs it holds now: at most `slots`, save just after it lowered its credit. */
  readonly jobs: number
  /** Jobs it has answered. */
  readonly served: number
  /** When it sent READY (ms since the epoch). */
  readonly connectedAt: number
  /** When the oldest job it runs was sent to it (ms since the epoch), while busy. */
  readonly jobStartedAt: number | undefined
  /** True once it takes no more jobs and leaves after those it holds ({@link Broker.disconnectWorker}, or a job past `jobTimeout`). */
  readonly retiring: boolean
}

/** Counters and gauges of a broker, for `nsz status` and metrics. */
export interface BrokerStats {
  readonly workers: number
  readonly idleWorkers: number
  readonly busyWorkers: number
  /** Slots over all workers: the jobs the pool takes at once. */
  readonly slots: number
  /** Slots that hold a job (a job past `jobTimeout` holds its slot until its worker answers or leaves). */
  readonly slotsInUse: number
  /** Services the broker knows (declared, offered, or waited for), at most `maxServices`. */
  readonly services: number
  /** Requests waiting for a worker, over all services. */
  readonly queued: number
  /** Requests waiting for a worker, per service (services with none waiting are left out). */
  readonly queuedByService: Readonly<Record<string, number>>
  /** Jobs sent to a worker and not answered yet. */
  readonly inFlight: number
  /** Requests accepted for a service (queued or sent to a worker). */
  readonly accepted: number
  /** Replies forwarded from workers to clients. */
  readonly served: number
  /** Replies the broker answered by itself, per status (400, 404, 413, 502, 503, 504). */
  readonly errors: Readonly<Record<number, number>>
  /** Worker REPLYs dropped: unknown or expired job id, or from a worker not in the pool. */
  readonly repliesDropped: number
  /** Replies that could not be delivered to their client. */
  readonly undeliverable: number
  /** Protocol errors, both sockets. */
  readonly protocolErrors: number
  /** Jobs that ran past `jobTimeout`. */
  readonly jobTimeouts: number
  /** Jobs sent to another worker after their worker was lost. */
  readonly requeued: number
  /** Jobs a worker declined before it started them (503: full, or leaving); each went to another worker, or got 503 when the broker was stopping. */
  readonly declines: number
  /** Bytes of replies the broker holds for clients that do not read them fast enough (at most `maxClientBuffer` each). */
  readonly heldBytes: number
  /** Clients the broker holds replies for. */
  readonly slowClients: number
  /** Every loss, by kind: see {@link BrokerLosses}. */
  readonly losses: BrokerLosses
  /**
   * Accepted jobs that ended, by service and status: the worker's status (200, 500 …)
   * for a job it answered, the broker's for one it answered itself (404 after the
   * startup grace, 502 worker lost, 503 queue timeout or stopping, 504 job timeout).
   * Requests refused before they were accepted are in `losses.refused`.
   */
  readonly jobs: Readonly<Record<string, Readonly<Record<number, number>>>>
}

/**
 * Learns of each job as it ends ({@link Broker.observeJobs}): its service, its status,
 * the seconds it waited for a worker, and the seconds it ran (`undefined` when it
 * never reached one). Called on the job's path: it must be quick and must not throw.
 */
export type JobObserver = (service: string, status: number, waitSeconds: number, runSeconds: number | undefined) => void

/**
 * Why a request was refused (answered at once with an error) or dropped from its queue:
 * - `malformed`: it does not parse (400);
 * - `tooLarge`: its body is over `maxMessageSize` (413);
 * - `noService`: no worker offers its service (404);
 * - `queueFull`: `maxQueue` requests wait already (503);
 * - `clientLimit`: its client has `maxQueuePerClient` requests waiting already (503);
 * - `queueTimeout`: it waited `queueTimeout` ms for a worker (503);
 * - `clientGone`: it waited, and a reply to its client failed because the client had gone (dropped, no reply);
 * - `stopping`: the broker drains or closes (503).
 */
export type RefusalReason = 'malformed' | 'tooLarge' | 'noService' | 'queueFull' | 'clientLimit' | 'queueTimeout' | 'clientGone' | 'stopping'

/**
 * Why a reply (the worker's, or the broker's own answer) did not reach its client:
 * - `unreachable`: the client has gone (`EHOSTUNREACH`);
 * - `overBudget`: the client does not read, and the replies held for it passed `maxClientBuffer` bytes;
 * - `closed`: the broker closed while it held the reply.
 */
export type UndeliveredReason = 'unreachable' | 'overBudget' | 'closed'

/**
 * Why a READY was refused (the peer gets DISCONNECT):
 * - `reservedService`: it offers a service in MMI's `mmi.` namespace;
 * - `tooManyServices`: it offers more than `maxServicesPerWorker` services;
 * - `serviceTableFull`: its new services would pass `maxServices`;
 * - `stopping`: the broker closes.
 */
export type RegistrationRefusal = 'reservedService' | 'tooManyServices' | 'serviceTableFull' | 'stopping'

/**
 * Why ZAP refused a connection (its handshake failed, so no message of that peer reached
 * the broker); the server that runs the ZAP handler reports it with {@link Broker.zapRefused}:
 * - `address`: the frontend's access rules (`allow`, `deny`, `cidrAllow`, `cidrDeny`) refuse its address;
 * - `clientKey`: the frontend admits the listed `clientKeys` only, and the peer has another key or none;
 * - `notChild`: a process on the host (an `ipc://` peer) that is not one of the server's children;
 * - `workerKey`: a remote worker the backend does not admit: no `workerKeys` listed (and no
 *   `insecureBackend`), not a CURVE peer, or a key not in the list.
 */
export type ZapRefusal = 'address' | 'clientKey' | 'notChild' | 'workerKey'

/** The kind of a `loss` event: the counter of {@link BrokerLosses} it counts in. */
export type LossKind =
  | `refused:${RefusalReason}`
  | `undelivered:${UndeliveredReason}`
  | 'strayReply'
  | 'jobLost'
  | `registrationRefused:${RegistrationRefusal}`
  | `workerDropped:${WorkerGoneReason}`
  | `zapRefused:${ZapRefusal}`

/** What the broker lost or refused since it started, by kind (`stats().losses`, `nsz status --json`). */
export interface BrokerLosses {
  readonly refused: Readonly<Record<RefusalReason, number>>
  readonly undelivered: Readonly<Record<UndeliveredReason, number>>
  /** Worker REPLYs that matched no job of theirs, or came from a worker not in the pool. */
  readonly strayReplies: number
  /** Jobs whose worker was lost while they ran, answered 502. */
  readonly jobsLost: number
  readonly registrationsRefused: Readonly<Record<RegistrationRefusal, number>>
  /** Workers that left the pool, by {@link WorkerGoneReason} (the orderly ones too). */
  readonly workersDropped: Readonly<Record<WorkerGoneReason, number>>
  /** Connections that ZAP refused, by {@link ZapRefusal}. */
  readonly zapRefused: Readonly<Record<ZapRefusal, number>>
}

/** The endpoints a broker bound, wildcards resolved. */
export interface BrokerEndpoints {
  readonly frontend: string
  readonly backend: string
}

/** Options of {@link Broker.disconnectWorker}. */
export interface DisconnectWorkerOptions {
  /** Drop the worker now even when it holds a job (which is then answered 502 or requeued). */
  readonly immediate?: boolean
  /**
   * Send no DISCONNECT: give the worker no more jobs (it finishes the one it holds) and
   * let it leave by itself, with its own DISCONNECT, or by a later call with `immediate`
   * once its process is gone. For a server that has told the worker's process to stop:
   * a DISCONNECT from the broker would make a worker reconnect (RFC 7). Such a worker
   * answers or declines every job it received before its DISCONNECT, so a job it still
   * holds when its DISCONNECT arrives never reached it, and goes to another worker.
   */
  readonly wait?: boolean
}

/** Where a {@link Broker} is in its life, in this order. */
export type BrokerState = 'new' | 'binding' | 'bound' | 'draining' | 'closing' | 'closed'

/** What `nsz status` prints: the broker's view of its pool. */
export interface ZmqServerStatus {
  readonly pid: number
  readonly title: string
  readonly frontend: string
  readonly backend: string
  readonly uptime: number
  readonly limits: { readonly minServers: number, readonly maxServers: number }
  readonly children: ReadonlyArray<{
    readonly pid: number
    readonly state: string
    readonly jobs: number
    /** Jobs it runs at once (`concurrency`, or what its last CREDIT said). */
    readonly slots: number
    /** Of those slots, the ones that hold a job now; absent in a `WorkerPool`, whose broker is elsewhere. */
    readonly running?: number
    readonly age: number
  }>
  /** The pool's slots: over every worker of the broker (remote ones too), or a `WorkerPool`'s children × `concurrency`. */
  readonly slots: {
    readonly total: number
    /** Slots that hold a job; absent in a `WorkerPool`. */
    readonly inUse?: number
  }
  readonly remoteWorkers: number
  /** The broker's workers that are not its own children (remote pools, foreign MDP/0.1 workers); empty in a `WorkerPool`. */
  readonly remote: readonly RemoteWorkerStatus[]
  readonly queued: number
  readonly inFlight: number
  readonly served: number
  readonly jobsPerSecond: number
  /** Replies the broker answered by itself, per status (400, 404, 413, 502, 503, 504). */
  readonly errors: Readonly<Record<number, number>>
  /** Bytes of replies held for clients that do not read them. */
  readonly heldBytes: number
  /** Every loss since start, by kind (`Broker.stats().losses`); all zero in a `WorkerPool`. */
  readonly losses: BrokerLosses
  /** Accepted jobs that ended, by service and status (`Broker.stats().jobs`); empty in a `WorkerPool`. */
  readonly jobs: Readonly<Record<string, Readonly<Record<number, number>>>>
  /** Requests waiting, per service (services with none waiting are left out). */
  readonly queuedByService: Readonly<Record<string, number>>
  /** The broker's workers by host (its own children, every other) and state. */
  readonly workersByHost: Readonly<Record<'local' | 'remote', Readonly<Record<WorkerState, number>>>>
  /** Messages that broke the protocol, both sockets. */
  readonly protocolErrors: number
  /** Jobs that ran past `jobTimeout`. */
  readonly jobTimeouts: number
  /** Jobs sent to another worker after theirs was lost. */
  readonly requeued: number
  /** Jobs a worker declined before it started them, sent to another worker. */
  readonly declines: number
  /** Children the pool started since it started (replacements included). */
  readonly childSpawns: number
  /** Children that exited since the pool started: stopped, recycled, crashed or killed. */
  readonly childExits: number
  /** The URL of the metrics endpoint (`metricsPort`), when it is served. */
  readonly metricsUrl?: string
  /** The URL of the dashboard (`dashboard`), when it is served: what `nsz dashboard` prints. */
  readonly dashboardUrl?: string
}

/** A worker of the broker that is not one of its children, as `nsz status` lists it. */
export interface RemoteWorkerStatus {
  /** Its routing id, in hex. */
  readonly id: string
  /** The host its pool names itself by (the start of its routing id), when it is a pool of ours. */
  readonly host?: string
  /** Its pid, when it announced the extension. */
  readonly pid?: number
  readonly services: readonly string[]
  readonly state: WorkerState
  /** Jobs it holds now. */
  readonly running: number
  /** Jobs it takes at once. */
  readonly slots: number
  /** Jobs it has answered. */
  readonly served: number
  /** Seconds since it joined. */
  readonly age: number
}

/** One job, as the per-request steps pass it along in a worker. */
export interface ZmqRequest extends RequestContext {
  /** The job as the worker agent received it; `job.reply()` answers it. */
  readonly job: Job
  /** The service the client asked for. */
  readonly service: string
  /** The request body, one Buffer per frame. */
  readonly frames: readonly Buffer[]
  /** The status sent, once a reply went out. */
  status: number | undefined
  /** True once `processRequest` ran (false when the peer was refused). */
  processed: boolean
}
