import { EventEmitter } from 'eventemitter3'
import {
  ACK_CREDIT, ACK_FRAMING, FRAMING_COMPACT, MAX_SLOTS, Status, decodeCompactMessage, decodeWorkerMessage, encodeAckTo, encodeDisconnectTo, encodeHeartbeatTo,
  isCompact, isDecodeError, routedRequestJobId, type WorkerMessage
} from '@net-server/client'
import { Dispatcher } from './broker-dispatch.js'
import { Frontend } from './broker-frontend.js'
import { BrokerTables, info, type Job, type Worker } from './broker-tables.js'
import { bindBrokerSockets, receiveLoop, watchDescriptors, type BrokerSockets } from './broker-sockets.js'
import { leastRecentlyUsed, type DispatchPolicy } from './dispatch.js'
import { brokerStateError } from './errors.js'
import type { BrokerEvents } from './events.js'
import { JobCounts } from './job-counts.js'
import { LossCounters } from './loss-counters.js'
import { resolveBrokerOptions, type BrokerOptions, type ResolvedBrokerOptions } from './options.js'
import { SendQueue } from './send-queue.js'
import { zeromqSocketFactory, type SocketFactory } from './tokens.js'
import type { BrokerEndpoints, BrokerState, BrokerStats, DisconnectWorkerOptions, JobObserver, WorkerGoneReason, WorkerInfo, ZapRefusal } from './types.js'

/** The ACK's parameters: the broker takes CREDIT, up to {@link MAX_SLOTS} slots per worker, and offers the compact framing. */
const ACK_PARAMS = Object.freeze({ [ACK_CREDIT]: String(MAX_SLOTS), [ACK_FRAMING]: FRAMING_COMPACT })

/** On close, the frontend stays open until no request has come for this long (ms), within `linger`. */
const CLOSE_QUIET_MS = 50

/**
 * The broker: a frontend ROUTER for clients and a backend ROUTER for MDP/0.1 workers,
 * with a queue per service; its {@link DispatchPolicy} (least recently used by default,
 * the `dispatchPolicy` option) decides which worker takes which job.
 *
 * It runs in the server's parent process; it needs no server around it. Call
 * {@link Broker.bind}, let workers connect to the backend, and stop with
 * {@link Broker.drain} then {@link Broker.close}. Every request gets exactly one reply:
 * the worker's, or a status the broker picks (see `docs/protocol.md`).
 *
 * @example
 * ```ts
 * const broker = new Broker({ jobTimeout: 10_000 })
 * const { frontend, backend } = await broker.bind()
 * broker.on('jobTimeout', (worker) => { if (worker.pid) process.kill(worker.pid) })
 * ```
 */
export class Broker extends EventEmitter<BrokerEvents> {
  /** The resolved options. */
  readonly options: ResolvedBrokerOptions

  #state: BrokerState = 'new'
  #bound: BrokerSockets | undefined
  #frontend: Frontend | undefined
  #toWorkers: SendQueue | undefined
  #endpoints: BrokerEndpoints | undefined

  readonly #tables = new BrokerTables()
  readonly #dispatcher: Dispatcher

  #tick = 0
  #ticker: NodeJS.Timeout | undefined
  #graceTimer: NodeJS.Timeout | undefined
  #graceOver = false
  #drainWaiters: (() => void)[] = []
  #closing: Promise<void> | undefined

  readonly #counts = { served: 0, protocolErrors: 0, jobTimeouts: 0, requeued: 0, declines: 0 }
  readonly #losses = new LossCounters(this)
  readonly #jobs = new JobCounts()

  readonly #sockets: SocketFactory

  /**
   * @param options - see {@link BrokerOptions}
   * @param sockets - makes the two ROUTERs; zeromq.js's by default
   */
  constructor (options: BrokerOptions = {}, sockets: SocketFactory = zeromqSocketFactory) {
    super()
    this.#sockets = sockets
    this.options = resolveBrokerOptions(options)
    const policy = this.options.dispatchPolicy ?? leastRecentlyUsed
    this.#dispatcher = new Dispatcher(policy, this.#tables, {
      events: this,
      sendToWorker: (msg) => { this.#toWorkers!.send(msg) },
      jobTimedOut: this.#onJobTimeout,
      retire: (worker) => { this.#dropWorker(worker, worker.retireReason, true) },
      queueTimedOut: (job) => {
        this.#jobs.ended(job, Status.UNAVAILABLE)
        this.#frontend!.refuse('queueTimeout', job.client, job.envelope, `the request waited too long: ${this.options.queueTimeout} ms for a worker of service ${job.service.name} (queueTimeout)`)
      }
    }, this.options)
    this.#tables.addService(this.options.defaultService, true, true)
    for (const name of this.options.services) this.#tables.addService(name, true, true)
  }

  /** The bound endpoints, once {@link Broker.bind} has resolved. */
  get endpoints (): BrokerEndpoints | undefined {
    return this.#endpoints
  }

  /** `'new'`, `'binding'`, `'bound'`, `'draining'`, `'closing'` or `'closed'`. */
  get state (): BrokerState {
    return this.#state
  }

  /** The policy that picks a worker for each job: the `dispatchPolicy` option, or {@link leastRecentlyUsed}. */
  get dispatchPolicy (): DispatchPolicy {
    return this.#dispatcher.policy
  }

  /**
   * Binds the frontend and the backend and starts serving. Resolves with the real
   * endpoints (a `*` port resolved); rejects with `NSZ_ERR_BROKER_BIND` when a bind
   * fails, or `NSZ_ERR_BROKER_STATE` when called twice.
   */
  async bind (): Promise<BrokerEndpoints> {
    if (this.#state !== 'new') throw brokerStateError('bind', this.#state)
    this.#state = 'binding'
    try {
      this.#bound = await bindBrokerSockets(this.options, this.#sockets, () => {
        // close() came while the sockets were binding: it found nothing to close.
        if (this.#state !== 'binding') throw brokerStateError('bind', this.#state)
      })
    } catch (err) {
      this.#state = 'closed'
      throw err
    }
    const { frontend, backend } = this.#bound
    this.#frontend = new Frontend(frontend, this.options, {
      events: this,
      tables: this.#tables,
      dispatcher: this.#dispatcher,
      losses: this.#losses,
      jobs: this.#jobs,
      state: () => this.#state,
      graceOver: () => this.#graceOver
    })
    this.#toWorkers = new SendQueue(backend, this.#onWorkerSendFailure)
    this.#endpoints = Object.freeze({ frontend: frontend.lastEndpoint!, backend: backend.lastEndpoint! })
    this.#state = 'bound'
    if (this.options.serviceGrace > 0) this.#graceTimer = setTimeout(this.#endGrace, this.options.serviceGrace)
    else this.#endGrace()
    const onError = (err: Error): void => { this.emit('error', err) }
    watchDescriptors(this.#bound, (side, code) => { this.emit('descriptorsExhausted', side, code) })
    receiveLoop(frontend, this.#frontend.onMessage, onError)
    receiveLoop(backend, this.#onWorkerMessage, onError)
    return this.#endpoints
  }

  /**
   * Stops taking work, gracefully: new and queued requests get 503, jobs in flight
   * finish and their replies are still forwarded. Resolves when no job is in flight,
   * or after `timeoutMs`, when the jobs left get 503 and their workers are dropped.
   * The sockets stay open (answering 503) until {@link Broker.close}.
   */
  async drain (timeoutMs: number): Promise<void> {
    if (this.#state !== 'bound' && this.#state !== 'draining') return
    this.#state = 'draining'
    this.#frontend!.refuseQueued('stopping')
    if (this.#tables.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#drainWaiters.push(resolve)
        timer = setTimeout(resolve, Math.max(0, timeoutMs))
      })
      clearTimeout(timer)
    }
    if (this.#state !== 'draining') return
    this.#dropAll([...new Set([...this.#tables.inFlight.values()].map((job) => job.worker!))], 'drain')
  }

  /**
   * Stops at once: every queued and in-flight request gets 503, every worker gets
   * DISCONNECT. The frontend keeps reading, and answers 503 to the requests that were
   * already on their way, until none has come for 50 ms (at most `options.linger` ms);
   * then both sockets close once the replies are handed to libzmq (which may flush
   * them for up to `options.linger` ms more). No timer or socket is left.
   */
  close (): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close (): Promise<void> {
    const wasBound = this.#state === 'bound' || this.#state === 'draining'
    this.#state = 'closing'
    clearTimeout(this.#graceTimer)
    this.#stopTicker()
    this.#dispatcher.stop()
    this.#wakeDrainers()
    if (wasBound) {
      this.#frontend!.refuseQueued('stopping')
      this.#dropAll([...this.#tables.workers.values()], 'close')
      // Requests already on their way when the broker stopped are answered 503 as they
      // come; the socket closes once they stop coming (within `linger`).
      await this.#frontend!.quiet(CLOSE_QUIET_MS, this.options.linger)
      await Promise.all([this.#frontend!.close(), this.#toWorkers!.flushed()])
      this.#bound!.frontend.close()
      this.#bound!.backend.close()
    }
    this.#state = 'closed'
  }

  /** The broker stops: each job of those workers gets 503, and each worker DISCONNECT. */
  #dropAll (workers: readonly Worker[], reason: 'drain' | 'close'): void {
    for (const worker of workers) {
      for (const job of this.#tables.releaseAll(worker)) {
        this.#endJob(job)
        this.#jobs.ended(job, Status.UNAVAILABLE)
        this.#frontend!.answer(job.client, job.envelope, Status.UNAVAILABLE)
      }
      this.#dropWorker(worker, reason, true)
    }
  }

  /** A snapshot of the worker table, in no particular order. */
  workers (): WorkerInfo[] {
    return [...this.#tables.workers.values()].map(info)
  }

  /** Counters and gauges; see {@link BrokerStats}. */
  stats (): BrokerStats {
    const front = this.#frontend
    return {
      ...this.#tables.gauges(),
      ...this.#counts,
      accepted: front?.accepted ?? 0,
      protocolErrors: this.#counts.protocolErrors + (front?.protocolErrors ?? 0),
      repliesDropped: this.#losses.strayReplies,
      undeliverable: this.#losses.undeliveredTotal,
      errors: { ...front?.errors },
      heldBytes: front?.heldBytes ?? 0,
      slowClients: front?.slowClients ?? 0,
      losses: this.#losses.snapshot(),
      jobs: this.#jobs.snapshot()
    }
  }

  /**
   * Sets the one observer that learns each job's service, status, queue wait and run
   * time as it ends (metrics histograms); `undefined` removes it. A direct call on the
   * job's path, not an event: keep it quick.
   */
  observeJobs (observer: JobObserver | undefined): void {
    this.#jobs.observe(observer)
  }

  /** When the request waiting longest was accepted (ms since the epoch), over all services or in `service`; `undefined` when none waits. */
  oldestQueuedAt (service?: string): number | undefined {
    return this.#tables.oldestQueuedAt(service)
  }

  /**
   * Counts a connection that ZAP refused (`stats().losses.zapRefused`, a `loss` event): the
   * broker never sees such a peer, so whoever runs the ZAP handler tells it, as `ZmqServer` does.
   */
  zapRefused (reason: ZapRefusal, peer: string, detail: string): void {
    this.#losses.zapRefused(reason, peer, detail)
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
      this.#dropWorker(worker, 'retired', true)
    } else {
      worker.retiring = true
      this.#tables.unready(worker)
    }
    return true
  }

  // -------------------------------------------------------------------------
  // Backend

  readonly #onWorkerMessage = (msg: Buffer[]): void => {
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
      this.emit('replyDropped', worker.id, reason)
      this.#workerProtocolError(worker, reason)
      return
    }
    // Jobs it held past its credit: a worker that lowered its credit declines them.
    const overCredit = worker.jobs.size > worker.slots
    this.#tables.release(worker, job)
    if (job.timedOut) {
      // Its client had 504 at the deadline: the late reply only frees the slot.
      this.#losses.strayReply(worker.id, `REPLY for job ${job.id} after its jobTimeout`)
      this.emit('replyDropped', worker.id, 'REPLY after jobTimeout')
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
      this.#frontend!.forward(job, status ?? Status.OK, body)
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
        this.emit('replyDropped', id.toString('hex'), reason)
      }
    } else {
      this.#counts.protocolErrors++
      this.emit('protocolError', 'backend', id.toString('hex'), m.error)
    }
    // RFC 7: a worker the broker does not know must reconnect and send READY again.
    this.#sendDisconnect(id)
  }

  #register (id: Buffer, key: string, m: Extract<WorkerMessage, { command: 'ready' }>): void {
    const names = m.extension === undefined ? [m.service] : [...new Set([m.service, ...m.extension.services])]
    const refusal = this.#state === 'closing' || this.#state === 'closed'
      ? { reason: 'stopping' as const, why: 'READY while the broker closes' }
      : this.#tables.checkRegistration(names, this.options)
    if (refusal !== undefined) {
      if (refusal.reason !== 'stopping') {
        this.#counts.protocolErrors++
        this.emit('protocolError', 'backend', id.toString('hex'), refusal.why)
      }
      this.#losses.registrationRefused(refusal.reason, id.toString('hex'), refusal.why)
      this.#sendDisconnect(id)
      return
    }
    const worker = this.#tables.addWorker(id, key, names, m.extension, this.#tick)
    // The ACK goes before any REQUEST on the one ordered pipe: the worker uses the
    // extension from its first job on, and may send CREDIT for more slots than one.
    if (m.extension !== undefined) this.#toWorkers!.send(encodeAckTo(id, ACK_PARAMS))
    if (this.#ticker === undefined) this.#ticker = setInterval(this.#onTick, this.options.heartbeatInterval)
    this.#dispatcher.workerFree(worker, true)
  }

  /** A job is over (answered, lost or timed out): forget it and its timer. */
  #endJob (job: Job): void {
    this.#tables.endJob(job)
    if (this.#tables.inFlight.size === 0 && this.#drainWaiters.length > 0) this.#wakeDrainers()
  }

  /**
   * A job ran past `jobTimeout`: its client gets 504. A worker that runs other jobs and
   * still answers heartbeats (heard from within the last heartbeat interval) is not
   * made to sacrifice them: it takes no new job, and leaves once they are answered. A
   * worker that runs nothing else, or has gone silent (its event loop blocked), is
   * dropped at once, its other jobs answered 502 or requeued.
   */
  readonly #onJobTimeout = (job: Job): void => {
    const worker = job.worker!
    this.#counts.jobTimeouts++
    this.#tables.expire(job)
    this.#jobs.ended(job, Status.TIMEOUT)
    this.#frontend!.answer(job.client, job.envelope, Status.TIMEOUT)
    const drains = worker.jobs.size > worker.timedOut && worker.seenTick >= this.#tick - 1
    if (drains) {
      worker.retiring = true
      worker.retireReason = 'timeout'
      this.#tables.unready(worker)
    }
    // The snapshot says which: retiring (it drains), or not (it is dropped now).
    this.emit('jobTimeout', info(worker), job.id)
    if (!drains) this.#dropWorker(worker, 'timeout', true)
  }

  #workerProtocolError (worker: Worker, reason: string): void {
    this.#counts.protocolErrors++
    this.emit('protocolError', 'backend', worker.id, reason)
    this.#dropWorker(worker, 'protocol', true)
  }

  /** Removes a worker from the pool; each of its jobs in flight is answered 502 or requeued. */
  #dropWorker (worker: Worker, reason: WorkerGoneReason, disconnect: boolean): void {
    if (!this.#tables.removeWorker(worker)) return
    if (disconnect) this.#sendDisconnect(worker.routingId)
    const snapshot = info(worker)
    const running = this.#tables.releaseAll(worker)
    if (this.#tables.workers.size === 0) this.#stopTicker()
    for (const job of running) this.#jobLost(job)
    this.#losses.workerDropped(reason, worker.id)
    this.emit('workerGone', snapshot, reason)
  }

  /** Drops a worker that `jobs` never reached: they go to other workers; any other job it held is lost. */
  #dropUndelivered (worker: Worker, reason: WorkerGoneReason, jobs: readonly Job[]): void {
    for (const job of jobs) this.#tables.release(worker, job)
    this.#dropWorker(worker, reason, false)
    for (const job of jobs) this.#undelivered(job)
  }

  #jobLost (job: Job): void {
    this.#endJob(job)
    if (!this.options.requeue || job.requeued || this.#state !== 'bound') {
      this.#losses.jobLost(job.client, `job ${job.id} of service ${job.service.name} lost with its worker: 502`)
      this.#jobs.ended(job, Status.WORKER_LOST)
      this.#frontend!.answer(job.client, job.envelope, Status.WORKER_LOST)
      return
    }
    job.requeued = true
    this.#counts.requeued++
    this.#dispatcher.again(job)
  }

  #sendDisconnect (id: Buffer): void {
    this.#toWorkers!.send(encodeDisconnectTo(id))
  }

  readonly #onWorkerSendFailure = (msg: readonly Buffer[], err: Error & { code?: string }): void => {
    const worker = this.#tables.workers.get(msg[0]!.toString('latin1'))
    if (worker === undefined || err.code === 'ENOTSOCK') return
    this.emit('protocolError', 'backend', worker.id, `send failed (${err.code ?? err.message})`)
    // A REQUEST that could not be sent never reached the worker: the job did not run,
    // so it goes to another worker (or back to the head of its queue) whatever
    // `requeue` says, instead of costing its client a 502.
    const id = routedRequestJobId(msg)
    const job = id === undefined ? undefined : this.#tables.jobOf(worker, id)
    this.#dropUndelivered(worker, 'unreachable', job !== undefined && !job.timedOut ? [job] : [])
  }

  #undelivered (job: Job): void {
    this.#endJob(job)
    if (this.#state !== 'bound') {
      this.#jobs.ended(job, Status.UNAVAILABLE)
      this.#frontend!.answer(job.client, job.envelope, Status.UNAVAILABLE)
      return
    }
    // Accepted already: it goes first in its queue when it waits, past the maxQueue bound.
    this.#dispatcher.again(job)
  }

  readonly #onTick = (): void => {
    this.#tick++
    const limit = this.#tick - this.options.heartbeatLiveness
    // A service no worker has offered for as long as a worker takes to be declared dead
    // and to come back is forgotten.
    this.#tables.forgetIdle(Date.now() - this.options.heartbeatInterval * this.options.heartbeatLiveness)
    for (const worker of this.#tables.workers.values()) {
      // Busy workers may block their event loop: jobTimeout governs them, not heartbeats.
      if (worker.jobs.size === 0 && worker.seenTick < limit) {
        this.#dropWorker(worker, 'expired', true)
      } else {
        this.#toWorkers!.send(encodeHeartbeatTo(worker.routingId))
      }
    }
  }

  #stopTicker (): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
  }

  // -------------------------------------------------------------------------
  // Services and queues

  /** The startup grace is over: requests for services no worker offered get 404. */
  readonly #endGrace = (): void => {
    this.#graceTimer = undefined
    this.#graceOver = true
    this.#frontend?.refuseQueued('noService')
  }

  #wakeDrainers (): void {
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const wake of waiters) wake()
  }
}
