/**
 * Event maps of the broker and the worker agent (eventemitter3, labelled tuples).
 * Events report what happened, for logs, metrics and tests; they change nothing.
 */
import type { LossKind, WorkerGoneReason, WorkerInfo } from './types.js'

/** Events of a {@link Broker}. */
export interface BrokerEvents {
  /** A worker sent READY and joined the pool; `worker.state` is `'idle'` or already `'busy'`. */
  workerReady: [worker: WorkerInfo]
  /** A job went to a worker. Emitted only while someone listens (it is on the per-request path). */
  workerBusy: [worker: WorkerInfo, jobId: number]
  /** A request waits for a worker; `depth` is its service's queue length. Emitted only while someone listens. */
  requestQueued: [service: string, depth: number]
  /**
   * A worker answered a job and found nothing queued: it holds no job now, or it was
   * full and has a free slot again. Emitted only while someone listens.
   */
  workerIdle: [worker: WorkerInfo]
  /**
   * A worker left the pool; its jobs in flight were answered 502 or requeued. With
   * reason `timeout`, one of its jobs ran past `jobTimeout` and may still run there: a
   * server should kill and replace the process whose pid `worker.pid` names.
   */
  workerGone: [worker: WorkerInfo, reason: WorkerGoneReason]
  /**
   * A job ran past `jobTimeout`: its client got 504. The worker is dropped at once
   * (`workerGone`, reason `timeout`) when it runs no other job or has gone silent;
   * else it takes no new job (`worker.retiring` is true) and is dropped once its other
   * jobs are answered.
   */
  jobTimeout: [worker: WorkerInfo, jobId: number]
  /** A worker's REPLY was dropped: unknown or expired job id, or a worker no longer in the pool. */
  replyDropped: [workerId: string, reason: string]
  /**
   * A reply could not be delivered because the client has gone (`EHOSTUNREACH`): what
   * was held for it and its waiting requests are dropped. A client that only does not
   * read (`EAGAIN`) has its replies held, within `maxClientBuffer` (see `loss`).
   */
  clientGone: [clientId: string, code: string]
  /** A peer broke the protocol: malformed client request (answered 400) or worker message (worker dropped). */
  protocolError: [side: 'frontend' | 'backend', peerId: string, reason: string]
  /**
   * Something was refused or lost: a request answered at once with an error or dropped
   * from its queue, a reply that did not reach its client, a stray REPLY, a READY
   * refused, a worker dropped for a fault, a connection ZAP refused. Each is counted in
   * `stats().losses` under `kind`; `peerId` is the client's or the worker's routing id in
   * hex (for a ZAP refusal, the peer's address and mechanism). Emitted only
   * while someone listens (a flood emits one per request: a logger should rate-limit).
   */
  loss: [kind: LossKind, peerId: string, detail: string]
  /** A socket ran out of file descriptors (`EMFILE`/`ENFILE` on accept): new peers cannot connect. */
  descriptorsExhausted: [side: 'frontend' | 'backend', code: string]
  /** A failure that no caller can receive, e.g. a socket that stopped receiving. */
  error: [error: Error]
}

/** Why a {@link WorkerAgent} dropped its connection to the broker. */
export type DisconnectReason = 'silence' | 'disconnect' | 'close'

/** Events of a {@link WorkerAgent}. */
export interface WorkerAgentEvents {
  /** The worker connected and sent READY. */
  ready: [endpoint: string]
  /** The connection was dropped: the broker went silent or sent DISCONNECT, or the agent closed. */
  disconnected: [reason: DisconnectReason]
  /** The agent waits `delay` milliseconds before it connects again. */
  reconnecting: [delay: number]
  /** A job's reply was not sent: its connection was lost while it ran. */
  replyDropped: [jobId: string]
  /** The broker sent a message that does not parse or makes no sense for a worker. */
  protocolError: [reason: string]
  /** A failure that no caller can receive. */
  error: [error: Error]
}
