/**
 * The broker's backend: what each worker message does, how workers join (READY, ACK),
 * are heard from (heartbeats, expiry) and leave, and what becomes of the jobs of a worker
 * that leaves (502, requeued, or sent to another worker when it never ran them). The
 * {@link Broker} owns the lifecycle; this side owns the worker table's traffic.
 * @internal
 */
import type { EventEmitter } from 'eventemitter3'
import type { Router } from 'zeromq'
import {
  ACK_CREDIT, ACK_FRAMING, FRAMING_COMPACT, MAX_SLOTS, Status, decodeCompactMessage, decodeWorkerMessage, encodeAckTo, encodeDisconnectTo, encodeHeartbeatTo,
  isCompact, isDecodeError, routedRequestJobId, type WorkerMessage
} from '@net-server/client'
import type { Dispatcher } from './broker-dispatch.js'
import type { Frontend } from './broker-frontend.js'
import { info, type BrokerTables, type Job, type Worker } from './broker-tables.js'
import type { BrokerEvents } from './events.js'
import type { JobCounts } from './job-counts.js'
import type { LossCounters } from './loss-counters.js'
import type { ResolvedBrokerOptions } from './options.js'
import { SendQueue } from './send-queue.js'
import type { BrokerState, DisconnectWorkerOptions, WorkerGoneReason } from './types.js'

/** The ACK's parameters: the broker takes CREDIT, up to {@link MAX_SLOTS} slots per worker, and offers the compact framing. */
const ACK_PARAMS = Object.freeze({ [ACK_CREDIT]: String(MAX_SLOTS), [ACK_FRAMING]: FRAMING_COMPACT })

/** The broker's counters that its backend moves. */
export interface BackendCounts {
  served: number
  protocolErrors: number
  jobTimeouts: number
  requeued: number
  declines: number
}

/** What the backend needs of its broker. */
export interface BackendHost {
  readonly events: EventEmitter<BrokerEvents>
  readonly options: ResolvedBrokerOptions
  readonly tables: BrokerTables
  readonly dispatcher: Dispatcher
  readonly frontend: Frontend
  readonly counts: BackendCounts
  readonly losses: LossCounters
  readonly jobs: JobCounts
  /** Where the broker is: a job lost while it stops is answered, not requeued. */
  state (): BrokerState
  /** The last job in flight has ended (a drain waits for it). */
  noJobInFlight (): void
}

/** Talks to the workers on the backend ROUTER, for a broker. */
export class Backend {
  readonly #host: BackendHost
  readonly #events: EventEmitter<BrokerEvents>
  readonly #o: ResolvedBrokerOptions
  readonly #tables: BrokerTables
  readonly #dispatcher: Dispatcher
  readonly #frontend: Frontend
  readonly #counts: BackendCounts
  readonly #losses: LossCounters
  readonly #jobs: JobCounts
  readonly #toWorkers: SendQueue
  #tick = 0
  #ticker: NodeJS.Timeout | undefined

  constructor (socket: Router, host: BackendHost) {
    this.#host = host
    this.#events = host.events
    this.#o = host.options
    this.#tables = host.tables
    this.#dispatcher = host.dispatcher
    this.#frontend = host.frontend
    this.#counts = host.counts
    this.#losses = host.losses
    this.#jobs = host.jobs
    this.#toWorkers = new SendQueue(socket, this.#onWorkerSendFailure)
  }

  /** Sends a message on the backend (a REQUEST from the dispatcher). */
  send (msg: Buffer[]): void {
    this.#toWorkers.send(msg)
  }

  /** Resolves once every message queued for the workers has been handed to libzmq. */
  flushed (): Promise<void> {
    return this.#toWorkers.flushed()
  }

  /**
   * Asks a worker to leave the pool, by routing id (hex) or pid: it gets DISCONNECT
   * now when idle, or once the jobs it holds have been answered (at once with
   * `immediate`, its jobs then answered 502 or requeued). With `wait` it gets no
   * DISCONNECT and no more jobs, and leaves by itself. Returns false when no worker
   * matches.
   */
  disconnectWorker (idOrPid: string | number, options: DisconnectWorkerOptions = {}): boolean {
    const worker = this.#tables.findWorker(idOrPid)
    if (worker === undefined) return false
    if (options.wait === true && options.immediate !== true) {
      worker.leaving = true
      this.#tables.unready(worker)
    } else if (worker.jobs.size === worker.timedOut || options.immediate === true) {
      this.dropWorker(worker, 'retired', true)
    } else {
      worker.retiring = true
      this.#tables.unready(worker)
    }
    return true
  }

  /** The broker stops: each job of those workers gets 503, and each worker DISCONNECT. */
  dropAll (workers: readonly Worker[], reason: 'drain' | 'close'): void {
    for (const worker of workers) {
      for (const job of this.#tables.releaseAll(worker)) {
        this.#endJob(job)
        this.#jobs.ended(job, Status.UNAVAILABLE)
        this.#frontend.answer(job.client, job.envelope, Status.UNAVAILABLE)
      }
      this.dropWorker(worker, reason, true)
    }
  }

  readonly onMessage = (msg: Buffer[]): void => {
    const id = msg.shift()!
    const key = id.toString('latin1')
    const worker = this.#tables.workers.get(key)
    if (worker === undefined) {
      this.#onStrangerMessage(id, key, msg)
      return
    }
    worker.seenTick = this.#tick
    // The compact framing was offered to every extended worker (ACK): its first compact
    // message takes the offer, and its REQUESTs go compact from then on.
    const compact = worker.extended && isCompact(msg)
    const m = compact ? decodeCompactMessage(msg) : decodeWorkerMessage(msg, worker.extended)
    if (isDecodeError(m)) {
      this.#workerProtocolError(worker, m.error)
      return
    }
    if (compact) worker.compact = true
    switch (m.command) {
      case 'heartbeat':
        return
      case 'reply':
        this.#onReply(worker, m.jobId, m.status, m.body)
        return
      case 'credit':
        if (!worker.extended) {
          this.#workerProtocolError(worker, 'CREDIT from a worker that did not announce the extension')
          return
        }
        this.#tables.setSlots(worker, m.slots)
        this.#dispatcher.workerFree(worker, false)
        return
      case 'disconnect':
        // The project's workers send DISCONNECT only once every job they took is
        // answered, so the jobs an extended worker still holds crossed its DISCONNECT on
        // the wire and never ran: they go to other workers, as undelivered ones do,
        // instead of costing their clients a 502 (a worker that retires under load hits
        // this window). A plain MDP worker's job is lost (502, or requeued when asked).
        this.#dropUndelivered(worker, 'disconnect', worker.extended ? [...worker.jobs.values()].filter((j) => !j.timedOut) : [])
        return
      case 'ready':
        this.#workerProtocolError(worker, 'READY from a worker already in the pool')
        return
      default:
        this.#workerProtocolError(worker, `${m.command.toUpperCase()} is not a worker command`)
    }
  }

  #onReply (worker: Worker, jobId: Buffer, status: number | undefined, body: Buffer[]): void {
    const job = this.#tables.jobOf(worker, jobId)
    if (job === undefined) {
      const reason = worker.jobs.size === 0 ? 'REPLY from a worker that holds no job' : 'REPLY for another job id'
      this.#losses.strayReply(worker.id, reason)
      this.#events.emit('replyDropped', worker.id, reason)
      this.#workerProtocolError(worker, reason)
      return
    }
    // Jobs it held past its credit: a worker that lowered its credit declines them.
    const overCredit = worker.jobs.size > worker.slots
    this.#tables.release(worker, job)
    if (job.timedOut) {
      // Its client had 504 at the deadline: the late reply only frees the slot.
      this.#losses.strayReply(worker.id, `REPLY for job ${job.id} after its jobTimeout`)
      this.#events.emit('replyDropped', worker.id, 'REPLY after jobTimeout')
    } else if (worker.extended && (status === Status.UNAVAILABLE || status === Status.WORKER_LOST)) {
      // An extended worker declines a job it has not started (503): the job goes to
      // another worker. One it abandons half done (502) is lost as with any worker
      // death: 502 to the client, or requeued when asked for. Unless it only declined
      // a job past its credit, the worker is leaving: it takes no more jobs, and those
      // it still runs finish.
      if (!(overCredit && status === Status.UNAVAILABLE)) {
        worker.leaving = true
        this.#tables.unready(worker)
      }
      if (status === Status.UNAVAILABLE) {
        this.#counts.declines++
        this.#undelivered(job)
      } else {
        this.#jobLost(job)
      }
      return
    } else {
      worker.served++
      this.#endJob(job)
      this.#jobs.ended(job, status ?? Status.OK)
      this.#counts.served++
      this.#frontend.forward(job, status ?? Status.OK, body)
    }
    this.#dispatcher.workerFree(worker, false)
  }

  /** A message from a peer that is not in the worker table: READY registers it. */
  #onStrangerMessage (id: Buffer, key: string, msg: Buffer[]): void {
    // A worker of a broker that ran here before may still speak the compact framing it
    // agreed with that one. Frame 5 tells an extended REPLY (status) from a plain one (empty).
    const m = isCompact(msg) ? decodeCompactMessage(msg) : decodeWorkerMessage(msg, msg.length > 4 && msg[4]!.length !== 0)
    if (!isDecodeError(m)) {
      if (m.command === 'ready') {
        this.#register(id, key, m)
        return
      }
      if (m.command === 'disconnect') return
      if (m.command === 'reply') {
        const reason = 'REPLY from a worker not in the pool'
        this.#losses.strayReply(id.toString('hex'), reason)
        this.#events.emit('replyDropped', id.toString('hex'), reason)
      }
    } else {
      this.#counts.protocolErrors++
      this.#events.emit('protocolError', 'backend', id.toString('hex'), m.error)
    }
    // RFC 7: a worker the broker does not know must reconnect and send READY again.
    this.#sendDisconnect(id)
  }

  #register (id: Buffer, key: string, m: Extract<WorkerMessage, { command: 'ready' }>): void {
    const names = m.extension === undefined ? [m.service] : [...new Set([m.service, ...m.extension.services])]
    const state = this.#host.state()
    const refusal = state === 'closing' || state === 'closed'
      ? { reason: 'stopping' as const, why: 'READY while the broker closes' }
      : this.#tables.checkRegistration(names, this.#o)
    if (refusal !== undefined) {
      if (refusal.reason !== 'stopping') {
        this.#counts.protocolErrors++
        this.#events.emit('protocolError', 'backend', id.toString('hex'), refusal.why)
      }
      this.#losses.registrationRefused(refusal.reason, id.toString('hex'), refusal.why)
      this.#sendDisconnect(id)
      return
    }
    const worker = this.#tables.addWorker(id, key, names, m.extension, this.#tick)
    // The ACK goes before any REQUEST on the one ordered pipe: the worker uses the
    // extension from its first job on, and may send CREDIT for more slots than one.
    if (m.extension !== undefined) this.#toWorkers.send(encodeAckTo(id, ACK_PARAMS))
    if (this.#ticker === undefined) this.#ticker = setInterval(this.#onTick, this.#o.heartbeatInterval)
    this.#dispatcher.workerFree(worker, true)
  }

  /** A job is over (answered, lost or timed out): forget it and its timer. */
  #endJob (job: Job): void {
    this.#tables.endJob(job)
    if (this.#tables.inFlight.size === 0) this.#host.noJobInFlight()
  }

  /**
   * A job ran past `jobTimeout`: its client gets 504. A worker that runs other jobs and
   * still answers heartbeats (heard from within the last heartbeat interval) is not
   * made to sacrifice them: it takes no new job, and leaves once they are answered. A
   * worker that runs nothing else, or has gone silent (its event loop blocked), is
   * dropped at once, its other jobs answered 502 or requeued.
   */
  readonly onJobTimeout = (job: Job): void => {
    const worker = job.worker!
    this.#counts.jobTimeouts++
    this.#tables.expire(job)
    this.#jobs.ended(job, Status.TIMEOUT)
    this.#frontend.answer(job.client, job.envelope, Status.TIMEOUT)
    const drains = worker.jobs.size > worker.timedOut && worker.seenTick >= this.#tick - 1
    if (drains) {
      worker.retiring = true
      worker.retireReason = 'timeout'
      this.#tables.unready(worker)
    }
    // The snapshot says which: retiring (it drains), or not (it is dropped now).
    this.#events.emit('jobTimeout', info(worker), job.id)
    if (!drains) this.dropWorker(worker, 'timeout', true)
  }

  #workerProtocolError (worker: Worker, reason: string): void {
    this.#counts.protocolErrors++
    this.#events.emit('protocolError', 'backend', worker.id, reason)
    this.dropWorker(worker, 'protocol', true)
  }

  /** Removes a worker from the pool; each of its jobs in flight is answered 502 or requeued. */
  dropWorker (worker: Worker, reason: WorkerGoneReason, disconnect: boolean): void {
    if (!this.#tables.removeWorker(worker)) return
    if (disconnect) this.#sendDisconnect(worker.routingId)
    const snapshot = info(worker)
    const running = this.#tables.releaseAll(worker)
    if (this.#tables.workers.size === 0) this.stopTicker()
    for (const job of running) this.#jobLost(job)
    this.#losses.workerDropped(reason, worker.id)
    this.#events.emit('workerGone', snapshot, reason)
  }

  /** Drops a worker that `jobs` never reached: they go to other workers; any other job it held is lost. */
  #dropUndelivered (worker: Worker, reason: WorkerGoneReason, jobs: readonly Job[]): void {
    for (const job of jobs) this.#tables.release(worker, job)
    this.dropWorker(worker, reason, false)
    for (const job of jobs) this.#undelivered(job)
  }

  #jobLost (job: Job): void {
    this.#endJob(job)
    if (!this.#o.requeue || job.requeued || this.#host.state() !== 'bound') {
      this.#losses.jobLost(job.client, `job ${job.id} of service ${job.service.name} lost with its worker: 502`)
      this.#jobs.ended(job, Status.WORKER_LOST)
      this.#frontend.answer(job.client, job.envelope, Status.WORKER_LOST)
      return
    }
    job.requeued = true
    this.#counts.requeued++
    this.#dispatcher.again(job)
  }

  #sendDisconnect (id: Buffer): void {
    this.#toWorkers.send(encodeDisconnectTo(id))
  }

  readonly #onWorkerSendFailure = (msg: readonly Buffer[], err: Error & { code?: string }): void => {
    const worker = this.#tables.workers.get(msg[0]!.toString('latin1'))
    if (worker === undefined || err.code === 'ENOTSOCK') return
    this.#events.emit('protocolError', 'backend', worker.id, `send failed (${err.code ?? err.message})`)
    // A REQUEST that could not be sent never reached the worker: the job did not run,
    // so it goes to another worker (or back to the head of its queue) whatever
    // `requeue` says, instead of costing its client a 502.
    const id = routedRequestJobId(msg)
    const job = id === undefined ? undefined : this.#tables.jobOf(worker, id)
    this.#dropUndelivered(worker, 'unreachable', job !== undefined && !job.timedOut ? [job] : [])
  }

  #undelivered (job: Job): void {
    this.#endJob(job)
    if (this.#host.state() !== 'bound') {
      this.#jobs.ended(job, Status.UNAVAILABLE)
      this.#frontend.answer(job.client, job.envelope, Status.UNAVAILABLE)
      return
    }
    // Accepted already: it goes first in its queue when it waits, past the maxQueue bound.
    this.#dispatcher.again(job)
  }

  readonly #onTick = (): void => {
    this.#tick++
    const limit = this.#tick - this.#o.heartbeatLiveness
    // A service no worker has offered for as long as a worker takes to be declared dead
    // and to come back is forgotten.
    this.#tables.forgetIdle(Date.now() - this.#o.heartbeatInterval * this.#o.heartbeatLiveness)
    for (const worker of this.#tables.workers.values()) {
      // Busy workers may block their event loop: jobTimeout governs them, not heartbeats.
      if (worker.jobs.size === 0 && worker.seenTick < limit) {
        this.dropWorker(worker, 'expired', true)
      } else {
        this.#toWorkers.send(encodeHeartbeatTo(worker.routingId))
      }
    }
  }

  /** Stops the heartbeat ticker (the broker closes, or no worker is left). */
  stopTicker (): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
  }
}
