/**
 * Where work meets a worker: the broker's one assignment path. It asks the
 * {@link DispatchPolicy}, checks the answer, and records, times and sends each job.
 * @internal
 */
import type { EventEmitter } from 'eventemitter3'
import { encodeCompactRequestTo, encodeRequestTo } from '@net-server/client'
import { info, type BrokerTables, type Job, type Worker } from './broker-tables.js'
import { leastRecentlyUsed, type DispatchPolicy } from './dispatch.js'
import type { BrokerEvents } from './events.js'

/** What the dispatcher needs of its broker. */
export interface DispatchHost {
  /** Where `workerBusy`, `workerIdle`, `workerReady`, `requestQueued` and policy errors go. */
  readonly events: EventEmitter<BrokerEvents>
  /** Sends a message on the backend. */
  sendToWorker (msg: Buffer[]): void
  /** A job ran past `jobTimeout`. */
  jobTimedOut (job: Job): void
  /** A retiring worker runs no more jobs (those past `jobTimeout` aside): it leaves now. */
  retire (worker: Worker): void
  /** A job waited `queueTimeout` ms: it is out of its queue, and its client must be told. */
  queueTimedOut (job: Job): void
}

/** The dispatcher's bounds, from the broker's options. */
export interface DispatchLimits {
  readonly jobTimeout: number
  readonly maxQueue: number
  readonly maxQueuePerClient: number
  readonly queueTimeout: number
}

/** Why {@link Dispatcher.accept} refused a job. */
export type QueueRefusal = 'queueFull' | 'clientLimit'

/** Places jobs on workers for a broker, as its policy says. */
export class Dispatcher {
  readonly policy: DispatchPolicy
  readonly #tables: BrokerTables
  readonly #host: DispatchHost
  readonly #limits: DispatchLimits
  /** Armed for the oldest waiting job's deadline, while jobs wait and `queueTimeout` is set. */
  #deadline: NodeJS.Timeout | undefined

  constructor (policy: DispatchPolicy, tables: BrokerTables, host: DispatchHost, limits: DispatchLimits) {
    this.policy = policy
    this.#tables = tables
    this.#host = host
    this.#limits = limits
  }

  /**
   * A new request: it goes to the worker the policy picks, or waits last in its
   * client's lane. Refused, and nothing done, when it would wait and `maxQueue` jobs
   * wait already, or `maxQueuePerClient` of its client's.
   */
  accept (job: Job): QueueRefusal | undefined {
    const worker = this.#pickWorker(job)
    if (worker !== undefined) {
      this.#dispatch(worker, job)
      return undefined
    }
    if (this.#tables.queued >= this.#limits.maxQueue) return 'queueFull'
    if (this.#tables.clientQueued(job.clientKey) >= this.#limits.maxQueuePerClient) return 'clientLimit'
    this.#enqueue(job, false)
    const events = this.#host.events
    if (events.listenerCount('requestQueued') > 0) events.emit('requestQueued', job.service.name, job.service.waiting.length)
    return undefined
  }

  /** A job accepted already comes back (its worker was lost): to the worker the policy picks, or first in its queue. */
  again (job: Job): void {
    const worker = this.#pickWorker(job)
    if (worker !== undefined) this.#dispatch(worker, job)
    else this.#enqueue(job, true)
  }

  /** Stops the deadline timer (the broker closes). */
  stop (): void {
    clearTimeout(this.#deadline)
    this.#deadline = undefined
  }

  #enqueue (job: Job, front: boolean): void {
    this.#tables.enqueue(job, front)
    if (this.#deadline === undefined && this.#limits.queueTimeout > 0) this.#armDeadline()
  }

  /** Arms the timer for the oldest waiting job's deadline: one timer whatever the number of jobs. */
  #armDeadline (): void {
    const oldest = this.#tables.oldestQueuedAt()
    if (oldest === undefined) return
    const delay = Math.max(0, oldest + this.#limits.queueTimeout - Date.now())
    this.#deadline = setTimeout(this.#onDeadline, delay)
  }

  /** Jobs accepted `queueTimeout` ms ago or more that still wait leave their queue; their clients get told. */
  readonly #onDeadline = (): void => {
    this.#deadline = undefined
    for (const job of this.#tables.queuedSince(Date.now() - this.#limits.queueTimeout)) {
      this.#tables.removeQueued(job)
      this.#host.queueTimedOut(job)
    }
    this.#armDeadline()
  }

  /**
   * A worker has a free slot (it joined, answered, or raised its credit): it takes the
   * waiting jobs the policy picks, as many as it has free slots, or waits for one.
   */
  workerFree (worker: Worker, isNew: boolean): void {
    if (worker.retiring) {
      if (worker.jobs.size === worker.timedOut) this.#host.retire(worker)
      return
    }
    if (worker.leaving) return
    let job: Job | undefined
    while (worker.freeSlots > 0 && (job = this.#pickJob(worker)) !== undefined) {
      this.#tables.unqueue(job)
      this.#dispatch(worker, job)
    }
    this.#tables.ready(worker)
    const events = this.#host.events
    // Idle: it holds no job, or it was full and has a free slot again.
    if (isNew) events.emit('workerReady', info(worker))
    else if ((worker.jobs.size === 0 || worker.freeSlots === 1) && worker.freeSlots > 0 && events.listenerCount('workerIdle') > 0) events.emit('workerIdle', info(worker))
  }

  /** The one place where a job goes to a worker, for a new request, a free worker and a job sent again alike. */
  #dispatch (worker: Worker, job: Job): void {
    this.#tables.assign(worker, job)
    if (this.#limits.jobTimeout > 0) job.timer = setTimeout(this.#onJobTimeout, this.#limits.jobTimeout, job)
    this.#host.sendToWorker(worker.compact
      ? encodeCompactRequestTo(worker.routingId, job.idFrame, job.body, job.service.nameFrame)
      : encodeRequestTo(worker.routingId, job.idFrame, job.body, worker.extended ? job.service.nameFrame : undefined))
    const events = this.#host.events
    if (events.listenerCount('workerBusy') > 0) events.emit('workerBusy', info(worker), job.id)
  }

  readonly #onJobTimeout = (job: Job): void => {
    if (job.worker === undefined || job.timedOut) return
    job.timer = undefined
    this.#host.jobTimedOut(job)
  }

  /** The ready worker the policy picks for `job`, if any. */
  #pickWorker (job: Job): Worker | undefined {
    const ready = job.service.ready
    if (ready.size === 0) return undefined
    let worker
    try {
      worker = this.policy.pickWorker(job, ready)
    } catch (err) {
      this.#policyError('pickWorker threw', err)
      return ready.first()
    }
    if (worker === undefined || ready.has(worker)) return worker as Worker | undefined
    this.#policyError(`pickWorker returned a worker that is not ready for service ${job.service.name}`)
    return ready.first()
  }

  /** The waiting job the policy picks for `worker`, if any. */
  #pickJob (worker: Worker): Job | undefined {
    if (!this.#tables.hasWorkFor(worker)) return undefined
    let job
    try {
      job = this.policy.pickJob(worker, worker.services) as Job | undefined
    } catch (err) {
      this.#policyError('pickJob threw', err)
      return leastRecentlyUsed.pickJob(worker, worker.services) as Job | undefined
    }
    if (job === undefined || (job.waiting && worker.services.includes(job.service))) return job
    this.#policyError('pickJob returned a job that is not waiting for one of the worker\'s services')
    return leastRecentlyUsed.pickJob(worker, worker.services) as Job | undefined
  }

  /**
   * A policy that throws or answers what cannot be: the default policy decides instead,
   * so that every request still gets its reply; the fault is reported, since no caller
   * can receive it.
   */
  #policyError (what: string, cause?: unknown): void {
    this.#host.events.emit('error', new Error(`dispatchPolicy.${what}: ignored`, cause === undefined ? undefined : { cause }))
  }
}
