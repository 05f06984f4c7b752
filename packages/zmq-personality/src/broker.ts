import { EventEmitter } from 'eventemitter3'
import { Status } from '@net-server/client'
import { Backend, type BackendCounts } from './broker-backend.js'
import { Dispatcher } from './broker-dispatch.js'
import { Frontend } from './broker-frontend.js'
import { BrokerTables, info } from './broker-tables.js'
import { bindBrokerSockets, receiveLoop, watchDescriptors, type BrokerSockets } from './broker-sockets.js'
import { leastRecentlyUsed, type DispatchPolicy } from './dispatch.js'
import { brokerStateError } from './errors.js'
import type { BrokerEvents } from './events.js'
import { JobCounts } from './job-counts.js'
import { LossCounters } from './loss-counters.js'
import { resolveBrokerOptions, type BrokerOptions, type ResolvedBrokerOptions } from './options.js'
import { zeromqSocketFactory, type SocketFactory } from './tokens.js'
import type { BrokerEndpoints, BrokerState, BrokerStats, DisconnectWorkerOptions, JobObserver, WorkerInfo, ZapRefusal } from './types.js'

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
  #backend: Backend | undefined
  #endpoints: BrokerEndpoints | undefined

  readonly #tables = new BrokerTables()
  readonly #dispatcher: Dispatcher

  #graceTimer: NodeJS.Timeout | undefined
  #graceOver = false
  #drainWaiters: (() => void)[] = []
  #closing: Promise<void> | undefined

  readonly #counts: BackendCounts = { served: 0, protocolErrors: 0, jobTimeouts: 0, requeued: 0, declines: 0 }
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
      sendToWorker: (msg) => { this.#backend!.send(msg) },
      jobTimedOut: (job) => { this.#backend!.onJobTimeout(job) },
      retire: (worker) => { this.#backend!.dropWorker(worker, worker.retireReason, true) },
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
    this.#backend = new Backend(backend, {
      events: this,
      options: this.options,
      tables: this.#tables,
      dispatcher: this.#dispatcher,
      frontend: this.#frontend,
      counts: this.#counts,
      losses: this.#losses,
      jobs: this.#jobs,
      state: () => this.#state,
      noJobInFlight: () => { if (this.#drainWaiters.length > 0) this.#wakeDrainers() }
    })
    this.#endpoints = Object.freeze({ frontend: frontend.lastEndpoint!, backend: backend.lastEndpoint! })
    this.#state = 'bound'
    if (this.options.serviceGrace > 0) this.#graceTimer = setTimeout(this.#endGrace, this.options.serviceGrace)
    else this.#endGrace()
    const onError = (err: Error): void => { this.emit('error', err) }
    watchDescriptors(this.#bound, (side, code) => { this.emit('descriptorsExhausted', side, code) })
    receiveLoop(frontend, this.#frontend.onMessage, onError)
    receiveLoop(backend, this.#backend.onMessage, onError)
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
    this.#backend!.dropAll([...new Set([...this.#tables.inFlight.values()].map((job) => job.worker!))], 'drain')
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
    this.#backend?.stopTicker()
    this.#dispatcher.stop()
    this.#wakeDrainers()
    if (wasBound) {
      this.#frontend!.refuseQueued('stopping')
      this.#backend!.dropAll([...this.#tables.workers.values()], 'close')
      // Requests already on their way when the broker stopped are answered 503 as they
      // come; the socket closes once they stop coming (within `linger`).
      await this.#frontend!.quiet(CLOSE_QUIET_MS, this.options.linger)
      await Promise.all([this.#frontend!.close(), this.#backend!.flushed()])
      this.#bound!.frontend.close()
      this.#bound!.backend.close()
    }
    this.#state = 'closed'
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
    return this.#backend?.disconnectWorker(idOrPid, options) ?? false
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
