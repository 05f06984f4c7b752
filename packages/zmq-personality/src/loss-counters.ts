/**
 * Every loss the broker sees, counted by kind and reported as a `loss` event: requests
 * refused, replies that never reached their client, stray replies, registrations
 * refused, workers dropped, connections that ZAP refused. The broker calls one method per loss; `stats().losses` and
 * `nsz status --json` read the counts, and a server logs the events (rate-limited).
 * @internal
 */
import type { EventEmitter } from 'eventemitter3'
import type { BrokerEvents } from './events.js'
import type {
  BrokerLosses, LossKind, RefusalReason, RegistrationRefusal, UndeliveredReason, WorkerGoneReason, ZapRefusal
} from './types.js'

const REFUSALS: readonly RefusalReason[] = ['malformed', 'tooLarge', 'noService', 'queueFull', 'clientLimit', 'queueTimeout', 'clientGone', 'stopping']
const UNDELIVERED: readonly UndeliveredReason[] = ['unreachable', 'overBudget', 'closed']
const REGISTRATIONS: readonly RegistrationRefusal[] = ['reservedService', 'tooManyServices', 'serviceTableFull', 'stopping']
const ZAP_REFUSALS: readonly ZapRefusal[] = ['address', 'clientKey', 'notChild', 'workerKey']
const WORKER_REASONS: readonly WorkerGoneReason[] = ['expired', 'disconnect', 'timeout', 'protocol', 'unreachable', 'retired', 'drain', 'close']

/** Workers that leave for these reasons were asked to or chose to: no loss is reported. */
const ORDERLY: ReadonlySet<WorkerGoneReason> = new Set(['disconnect', 'retired', 'drain', 'close'])

function zeros<K extends string> (keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>
}

/** Counts of nothing lost: the figures of a server that runs no broker. */
export function noLosses (): BrokerLosses {
  return { refused: zeros(REFUSALS), undelivered: zeros(UNDELIVERED), strayReplies: 0, jobsLost: 0, registrationsRefused: zeros(REGISTRATIONS), workersDropped: zeros(WORKER_REASONS), zapRefused: zeros(ZAP_REFUSALS) }
}

/** The broker's loss counters; each method counts one loss and emits `loss` while someone listens. */
export class LossCounters {
  readonly #events: EventEmitter<BrokerEvents>
  readonly #refused = zeros(REFUSALS)
  readonly #undelivered = zeros(UNDELIVERED)
  readonly #registrations = zeros(REGISTRATIONS)
  readonly #workers = zeros(WORKER_REASONS)
  readonly #zap = zeros(ZAP_REFUSALS)
  #stray = 0
  #lost = 0

  constructor (events: EventEmitter<BrokerEvents>) {
    this.#events = events
  }

  /** A request answered at once with an error, or dropped from the queue, for `reason`. */
  refused (reason: RefusalReason, clientId: Buffer | string, detail: string): void {
    this.#refused[reason]++
    this.#emit(`refused:${reason}`, clientId, detail)
  }

  /** A reply that did not reach its client. */
  undelivered (reason: UndeliveredReason, clientId: Buffer | string, detail: string): void {
    this.#undelivered[reason]++
    this.#emit(`undelivered:${reason}`, clientId, detail)
  }

  /** A worker's REPLY that matched none of its jobs, or came from a worker not in the pool. */
  strayReply (workerId: string, detail: string): void {
    this.#stray++
    this.#emit('strayReply', workerId, detail)
  }

  /** A job whose worker was lost while it ran: its client got 502. */
  jobLost (clientId: Buffer, detail: string): void {
    this.#lost++
    this.#emit('jobLost', clientId, detail)
  }

  /** A READY refused: the peer got DISCONNECT. */
  registrationRefused (reason: RegistrationRefusal, workerId: string, detail: string): void {
    this.#registrations[reason]++
    this.#emit(`registrationRefused:${reason}`, workerId, detail)
  }

  /** A worker left the pool; a loss is reported unless it left in order (asked to, or by itself). */
  workerDropped (reason: WorkerGoneReason, workerId: string): void {
    this.#workers[reason]++
    if (!ORDERLY.has(reason)) this.#emit(`workerDropped:${reason}`, workerId, `worker dropped: ${reason}`)
  }

  /** A connection that ZAP refused; `peer` names it (address, mechanism, key). */
  zapRefused (reason: ZapRefusal, peer: string, detail: string): void {
    this.#zap[reason]++
    this.#emit(`zapRefused:${reason}`, peer, detail)
  }

  /** Replies dropped because their client was gone or over its budget, over all reasons. */
  get undeliveredTotal (): number {
    let n = 0
    for (const reason of UNDELIVERED) n += this.#undelivered[reason]
    return n
  }

  get strayReplies (): number {
    return this.#stray
  }

  /** A copy of the counts. */
  snapshot (): BrokerLosses {
    return {
      refused: { ...this.#refused },
      undelivered: { ...this.#undelivered },
      strayReplies: this.#stray,
      jobsLost: this.#lost,
      registrationsRefused: { ...this.#registrations },
      workersDropped: { ...this.#workers },
      zapRefused: { ...this.#zap }
    }
  }

  #emit (kind: LossKind, peer: Buffer | string, detail: string): void {
    if (this.#events.listenerCount('loss') === 0) return
    this.#events.emit('loss', kind, typeof peer === 'string' ? peer : peer.toString('hex'), detail)
  }
}
