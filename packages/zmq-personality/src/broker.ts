import { EventEmitter } from 'eventemitter3'
import type { Router } from 'zeromq'
import { zeromqSocketFactory, type SocketFactory } from './tokens.js'
import {
  Command, MDPW, MMI_PREFIX, MmiStatus, REQ_ENVELOPE, Status,
  decodeClientRequest, decodeWorkerMessage, encodeClientReply, encodeDisconnect, encodeHeartbeat, isDecodeError,
  type ReplyEnvelope, type WorkerMessage
} from '@net-server/client'
import { Deque } from './deque.js'
import { isIpv6Endpoint } from './endpoints.js'
import { brokerBindError, brokerStateError } from './errors.js'
import type { BrokerEvents } from './events.js'
import { resolveBrokerOptions, type BrokerOptions, type ResolvedBrokerOptions } from './options.js'
import { SendQueue } from './send-queue.js'

/** Whether a worker waits for a job or runs one. */
export type WorkerState = 'idle' | 'busy'

/**
 * Why a worker left the pool:
 * - `expired`: idle and silent for `heartbeatLiveness` heartbeats;
 * - `disconnect`: it sent DISCONNECT;
 * - `timeout`: its job ran past `jobTimeout`;
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
  /** Jobs it has answered. */
  readonly served: number
  /** When it sent READY (ms since the epoch). */
  readonly connectedAt: number
  /** When its current job was sent to it (ms since the epoch), while busy. */
  readonly jobStartedAt: number | undefined
  /** True once {@link Broker.disconnectWorker} asked it to leave after its current job. */
  readonly retiring: boolean
}

/** Counters and gauges of a broker, for `nsz status` and metrics. */
export interface BrokerStats {
  readonly workers: number
  readonly idleWorkers: number
  readonly busyWorkers: number
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

type BrokerState = 'new' | 'binding' | 'bound' | 'draining' | 'closing' | 'closed'

const EMPTY = Buffer.alloc(0)
const MDPW_FRAME = Buffer.from(MDPW)
const REQUEST_FRAME = Buffer.from([Command.REQUEST])
const HEARTBEAT = encodeHeartbeat()
const DISCONNECT = encodeDisconnect()
const JOB_ID_BYTES = 6
const MMI_SERVICE = 'mmi.service'
const MMI_FOUND = [Buffer.from(MmiStatus.FOUND)]
const MMI_NOT_FOUND = [Buffer.from(MmiStatus.NOT_FOUND)]
const MMI_NOT_IMPLEMENTED = [Buffer.from(MmiStatus.NOT_IMPLEMENTED)]

/** A service: its idle workers in least-recently-used order and its waiting requests. */
interface Service {
  readonly name: string
  readonly nameFrame: Buffer
  /** Idle workers; a Set keeps insertion order, so the first is the least recently used. */
  readonly idle: Set<Worker>
  readonly queue: Deque<Job>
  /** Workers in the pool that offer it. */
  workers: number
  /** Declared in the options or offered by a worker since bind. */
  known: boolean
}

interface Worker {
  readonly id: Buffer
  readonly key: string
  readonly hex: string
  readonly pid: number | undefined
  readonly extended: boolean
  readonly services: readonly Service[]
  /** The services' names, for {@link info}. */
  readonly serviceNames: readonly string[]
  readonly connectedAt: number
  job: Job | undefined
  jobStartedAt: number | undefined
  /** Heartbeat tick at which the broker last heard from it. */
  seenTick: number
  served: number
  retiring: boolean
  /** Takes no more jobs and leaves by itself ({@link DisconnectWorkerOptions.wait}). */
  leaving: boolean
  gone: boolean
}

interface Job {
  readonly id: number
  readonly idFrame: Buffer
  readonly client: Buffer
  readonly envelope: ReplyEnvelope
  readonly service: Service
  readonly body: Buffer[]
  worker: Worker | undefined
  timer: NodeJS.Timeout | undefined
  requeued: boolean
}

/**
 * The broker: a frontend ROUTER for clients and a backend ROUTER for MDP/0.1 workers,
 * with a queue per service and the least recently used idle worker first.
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
  #frontend: Router | undefined
  #backend: Router | undefined
  #toClients: SendQueue | undefined
  #toWorkers: SendQueue | undefined
  #endpoints: BrokerEndpoints | undefined

  readonly #services = new Map<string, Service>()
  readonly #workers = new Map<string, Worker>()
  readonly #inFlight = new Map<number, Job>()
  #queued = 0
  #nextJobId = 1

  #tick = 0
  #ticker: NodeJS.Timeout | undefined
  #graceTimer: NodeJS.Timeout | undefined
  #graceOver = false
  #drainWaiters: (() => void)[] = []
  #closing: Promise<void> | undefined

  #accepted = 0
  #served = 0
  #repliesDropped = 0
  #undeliverable = 0
  #protocolErrors = 0
  #jobTimeouts = 0
  #requeued = 0
  readonly #errors: Record<number, number> = {}

  readonly #sockets: SocketFactory

  /**
   * @param options - see {@link BrokerOptions}
   * @param sockets - makes the two ROUTERs; zeromq.js's by default
   */
  constructor (options: BrokerOptions = {}, sockets: SocketFactory = zeromqSocketFactory) {
    super()
    this.#sockets = sockets
    this.options = resolveBrokerOptions(options)
    this.#addService(this.options.defaultService, true)
    for (const name of this.options.services) this.#addService(name, true)
  }

  /** The bound endpoints, once {@link Broker.bind} has resolved. */
  get endpoints (): BrokerEndpoints | undefined {
    return this.#endpoints
  }

  /** `'new'`, `'binding'`, `'bound'`, `'draining'`, `'closing'` or `'closed'`. */
  get state (): BrokerState {
    return this.#state
  }

  /**
   * Binds the frontend and the backend and starts serving. Resolves with the real
   * endpoints (a `*` port resolved); rejects with `NSZ_ERR_BROKER_BIND` when a bind
   * fails, or `NSZ_ERR_BROKER_STATE` when called twice.
   */
  async bind (): Promise<BrokerEndpoints> {
    if (this.#state !== 'new') throw brokerStateError('bind', this.#state)
    this.#state = 'binding'
    const o = this.options
    const frontend = this.#sockets.router({
      ...o.frontendSocketOptions,
      mandatory: true,
      sendTimeout: 0,
      // Replies must not be refused for a client that reads a burst of them a little late.
      sendHighWaterMark: Math.max(1000, 2 * o.maxQueue),
      linger: o.linger,
      ipv6: isIpv6Endpoint(o.frontend)
    })
    const backend = this.#sockets.router({
      ...o.backendSocketOptions,
      mandatory: true,
      sendTimeout: 0,
      linger: o.linger,
      ipv6: isIpv6Endpoint(o.backend),
      // ZMTP heartbeats run in libzmq's I/O thread, so a worker busy with a CPU-bound job
      // still answers them; a dead or unreachable one loses its connection, and the
      // broker's next HEARTBEAT to it fails with EHOSTUNREACH.
      heartbeatInterval: o.heartbeatInterval,
      heartbeatTimeout: o.heartbeatInterval * o.heartbeatLiveness
    })
    try {
      await bindSocket(frontend, 'frontend', o.frontend)
      await bindSocket(backend, 'backend', o.backend)
      // close() came while the sockets were binding: it found nothing to close.
      if (this.#state !== 'binding') throw brokerStateError('bind', this.#state)
    } catch (err) {
      frontend.close()
      backend.close()
      this.#state = 'closed'
      throw err
    }
    this.#frontend = frontend
    this.#backend = backend
    this.#toClients = new SendQueue(frontend, this.#onClientSendFailure)
    this.#toWorkers = new SendQueue(backend, this.#onWorkerSendFailure)
    this.#endpoints = Object.freeze({ frontend: frontend.lastEndpoint!, backend: backend.lastEndpoint! })
    this.#state = 'bound'
    if (o.serviceGrace > 0) {
      this.#graceTimer = setTimeout(this.#endGrace, o.serviceGrace)
    } else {
      this.#endGrace()
    }
    this.#receiveFrom(frontend, this.#onClientMessage)
    this.#receiveFrom(backend, this.#onWorkerMessage)
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
    this.#answerQueued(Status.UNAVAILABLE)
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#drainWaiters.push(resolve)
        timer = setTimeout(resolve, Math.max(0, timeoutMs))
      })
      clearTimeout(timer)
    }
    if (this.#state !== 'draining') return
    for (const job of [...this.#inFlight.values()]) {
      const worker = job.worker!
      worker.job = undefined
      this.#endJob(job)
      this.#answer(job.client, job.envelope, Status.UNAVAILABLE)
      this.#dropWorker(worker, 'drain', true)
    }
  }

  /**
   * Stops at once: every queued and in-flight request gets 503, every worker gets
   * DISCONNECT, then both sockets close once the replies are handed to libzmq (which
   * may flush them for up to `options.linger` ms). No timer or socket is left.
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
    this.#wakeDrainers()
    if (wasBound) {
      this.#answerQueued(Status.UNAVAILABLE)
      for (const worker of [...this.#workers.values()]) {
        const job = worker.job
        if (job !== undefined) {
          worker.job = undefined
          this.#endJob(job)
          this.#answer(job.client, job.envelope, Status.UNAVAILABLE)
        }
        this.#dropWorker(worker, 'close', true)
      }
      await Promise.all([this.#toClients!.flushed(), this.#toWorkers!.flushed()])
      this.#frontend!.close()
      this.#backend!.close()
    }
    this.#state = 'closed'
  }

  /** A snapshot of the worker table, in no particular order. */
  workers (): WorkerInfo[] {
    return [...this.#workers.values()].map(info)
  }

  /** Counters and gauges; see {@link BrokerStats}. */
  stats (): BrokerStats {
    let idle = 0
    for (const w of this.#workers.values()) if (w.job === undefined) idle++
    const queuedByService: Record<string, number> = {}
    for (const s of this.#services.values()) if (s.queue.length > 0) queuedByService[s.name] = s.queue.length
    return {
      workers: this.#workers.size,
      idleWorkers: idle,
      busyWorkers: this.#workers.size - idle,
      queued: this.#queued,
      queuedByService,
      inFlight: this.#inFlight.size,
      accepted: this.#accepted,
      served: this.#served,
      errors: { ...this.#errors },
      repliesDropped: this.#repliesDropped,
      undeliverable: this.#undeliverable,
      protocolErrors: this.#protocolErrors,
      jobTimeouts: this.#jobTimeouts,
      requeued: this.#requeued
    }
  }

  /**
   * Asks a worker to leave the pool, by routing id (hex) or pid: it gets DISCONNECT
   * now when idle, or after its current job has been answered (at once with
   * `immediate`, its job then answered 502 or requeued). With `wait` it gets no
   * DISCONNECT and no more jobs, and leaves by itself. Returns false when no worker
   * matches.
   */
  disconnectWorker (idOrPid: string | number, options: DisconnectWorkerOptions = {}): boolean {
    const worker = this.#findWorker(idOrPid)
    if (worker === undefined) return false
    if (options.wait === true && options.immediate !== true) {
      worker.leaving = true
      for (const s of worker.services) s.idle.delete(worker)
    } else if (worker.job === undefined || options.immediate === true) {
      this.#dropWorker(worker, 'retired', true)
    } else {
      worker.retiring = true
    }
    return true
  }

  #findWorker (idOrPid: string | number): Worker | undefined {
    for (const w of this.#workers.values()) {
      if (typeof idOrPid === 'number' ? w.pid === idOrPid : w.hex === idOrPid) return w
    }
    return undefined
  }

  // -------------------------------------------------------------------------
  // Receive loops: one per socket, ended by close().

  async #receiveFrom (socket: Router, handle: (msg: Buffer[]) => void): Promise<void> {
    for (;;) {
      let msg: Buffer[]
      try {
        msg = await socket.receive()
      } catch (err) {
        if (!socket.closed) this.emit('error', new Error('broker socket stopped receiving', { cause: err }))
        return
      }
      try {
        handle(msg)
      } catch (err) {
        // A defect in one message's handling must not stop the broker.
        this.emit('error', err as Error)
      }
    }
  }

  // -------------------------------------------------------------------------
  // Frontend

  readonly #onClientMessage = (msg: Buffer[]): void => {
    const client = msg.shift()!
    const req = decodeClientRequest(msg, this.options.defaultService)
    if (isDecodeError(req)) {
      this.#protocolErrors++
      this.emit('protocolError', 'frontend', client.toString('hex'), req.error)
      this.#answer(client, REQ_ENVELOPE, Status.MALFORMED, [Buffer.from(req.error)])
      return
    }
    const envelope: ReplyEnvelope = req.dialect === 'req'
      ? REQ_ENVELOPE
      : req.dialect === 'mdp' ? { dialect: 'mdp', service: req.service } : { dialect: 'nsz', requestId: req.requestId }
    if (req.service.startsWith(MMI_PREFIX)) {
      this.#mmi(client, envelope, req.service, req.body)
      return
    }
    if (this.#state !== 'bound') {
      this.#answer(client, envelope, Status.UNAVAILABLE)
      return
    }
    let size = 0
    for (let i = 0; i < req.body.length; i++) size += req.body[i]!.length
    if (size > this.options.maxMessageSize) {
      this.#answer(client, envelope, Status.TOO_LARGE)
      return
    }
    let service = this.#services.get(req.service)
    if (service === undefined) {
      if (this.#graceOver) {
        this.#answer(client, envelope, Status.NO_SERVICE)
        return
      }
      service = this.#addService(req.service, false)
    }
    const worker = firstOf(service.idle)
    if (worker === undefined && this.#queued >= this.options.maxQueue) {
      this.#answer(client, envelope, Status.UNAVAILABLE)
      return
    }
    const id = this.#nextJobId++
    const idFrame = Buffer.allocUnsafe(JOB_ID_BYTES)
    idFrame.writeUIntBE(id, 0, JOB_ID_BYTES)
    const job: Job = { id, idFrame, client, envelope, service, body: req.body, worker: undefined, timer: undefined, requeued: false }
    this.#accepted++
    if (worker !== undefined) {
      this.#dispatch(worker, job)
    } else {
      service.queue.push(job)
      this.#queued++
      if (this.listenerCount('requestQueued') > 0) this.emit('requestQueued', service.name, service.queue.length)
    }
  }

  #mmi (client: Buffer, envelope: ReplyEnvelope, service: string, body: Buffer[]): void {
    if (service !== MMI_SERVICE) {
      this.#answer(client, envelope, Status.OK, MMI_NOT_IMPLEMENTED)
      return
    }
    const asked = body.length > 0 ? this.#services.get(body[0]!.toString()) : undefined
    this.#answer(client, envelope, Status.OK, asked !== undefined && asked.workers > 0 ? MMI_FOUND : MMI_NOT_FOUND)
  }

  /** Sends a reply to a client in its dialect; a status the broker picks is counted. */
  #answer (client: Buffer, envelope: ReplyEnvelope, status: number, body: readonly Buffer[] = []): void {
    if (status !== Status.OK) this.#errors[status] = (this.#errors[status] ?? 0) + 1
    const msg = encodeClientReply(envelope, status, body)
    msg.unshift(client)
    this.#toClients!.send(msg)
  }

  readonly #onClientSendFailure = (msg: readonly Buffer[], err: Error & { code?: string }): void => {
    this.#undeliverable++
    this.emit('clientGone', msg[0]!.toString('hex'), err.code ?? 'UNKNOWN')
  }

  // -------------------------------------------------------------------------
  // Backend

  readonly #onWorkerMessage = (msg: Buffer[]): void => {
    const id = msg.shift()!
    const key = id.toString('latin1')
    const worker = this.#workers.get(key)
    if (worker === undefined) {
      this.#onStrangerMessage(id, key, msg)
      return
    }
    worker.seenTick = this.#tick
    const m = decodeWorkerMessage(msg, worker.extended)
    if (isDecodeError(m)) {
      this.#workerProtocolError(worker, m.error)
      return
    }
    switch (m.command) {
      case 'heartbeat':
        return
      case 'reply': {
        const job = worker.job
        if (job === undefined || !job.idFrame.equals(m.jobId)) {
          this.#repliesDropped++
          const reason = job === undefined ? 'REPLY from a worker that holds no job' : 'REPLY for another job id'
          this.emit('replyDropped', worker.hex, reason)
          this.#workerProtocolError(worker, reason)
          return
        }
        worker.job = undefined
        worker.jobStartedAt = undefined
        if (worker.extended && (m.status === Status.UNAVAILABLE || m.status === Status.WORKER_LOST)) {
          // An extended worker that is leaving declines a job it has not started (503):
          // the job goes to another worker. One it abandons half done (502) is lost as
          // with any worker death: 502 to the client, or requeued when asked for.
          // Either way the worker takes no more jobs.
          this.#dropWorker(worker, 'retired', false)
          if (m.status === Status.UNAVAILABLE) this.#undelivered(job)
          else this.#jobLost(job)
          return
        }
        worker.served++
        this.#endJob(job)
        this.#served++
        const reply = encodeClientReply(job.envelope, m.status ?? Status.OK, m.body)
        reply.unshift(job.client)
        this.#toClients!.send(reply)
        this.#workerFree(worker)
        return
      }
      case 'disconnect': {
        this.#workerLeft(worker)
        return
      }
      case 'ready':
        this.#workerProtocolError(worker, 'READY from a worker already in the pool')
        return
      default:
        this.#workerProtocolError(worker, 'REQUEST is not a worker command')
    }
  }

  /** A message from a peer that is not in the worker table: READY registers it. */
  #onStrangerMessage (id: Buffer, key: string, msg: Buffer[]): void {
    // Frame 5 tells an extended REPLY (status) from a plain one (empty).
    const m = decodeWorkerMessage(msg, msg.length > 4 && msg[4]!.length !== 0)
    if (!isDecodeError(m)) {
      if (m.command === 'ready') {
        this.#register(id, key, m)
        return
      }
      if (m.command === 'disconnect') return
      if (m.command === 'reply') {
        this.#repliesDropped++
        this.emit('replyDropped', id.toString('hex'), 'REPLY from a worker not in the pool')
      }
    } else {
      this.#protocolErrors++
      this.emit('protocolError', 'backend', id.toString('hex'), m.error)
    }
    // RFC 7: a worker the broker does not know must reconnect and send READY again.
    this.#sendDisconnect(id)
  }

  #register (id: Buffer, key: string, m: Extract<WorkerMessage, { command: 'ready' }>): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      this.#sendDisconnect(id)
      return
    }
    const names = m.extension === undefined ? [m.service] : [...new Set([m.service, ...m.extension.services])]
    const reserved = names.find((n) => n.startsWith(MMI_PREFIX))
    if (reserved !== undefined) {
      this.#protocolErrors++
      this.emit('protocolError', 'backend', id.toString('hex'), `READY for the reserved service ${reserved}`)
      this.#sendDisconnect(id)
      return
    }
    const services = names.map((name) => {
      const service = this.#services.get(name) ?? this.#addService(name, true)
      service.known = true
      service.workers++
      return service
    })
    const worker: Worker = {
      id,
      key,
      hex: id.toString('hex'),
      pid: m.extension?.pid,
      extended: m.extension !== undefined,
      services,
      serviceNames: Object.freeze(services.map((s) => s.name)),
      connectedAt: Date.now(),
      job: undefined,
      jobStartedAt: undefined,
      seenTick: this.#tick,
      served: 0,
      retiring: false,
      leaving: false,
      gone: false
    }
    this.#workers.set(key, worker)
    if (this.#ticker === undefined) this.#ticker = setInterval(this.#onTick, this.options.heartbeatInterval)
    this.#workerFree(worker, true)
  }

  /** A worker is free: it takes the oldest request queued for any of its services, or waits. */
  #workerFree (worker: Worker, isNew = false): void {
    if (worker.retiring) {
      this.#dropWorker(worker, 'retired', true)
      return
    }
    if (worker.leaving) return
    let from: Service | undefined
    let oldest = Infinity
    for (const s of worker.services) {
      const head = s.queue.peek()
      if (head !== undefined && head.id < oldest) {
        oldest = head.id
        from = s
      }
    }
    if (from !== undefined) {
      this.#queued--
      this.#dispatch(worker, from.queue.shift()!)
    } else {
      for (const s of worker.services) s.idle.add(worker)
      if (!isNew && this.listenerCount('workerIdle') > 0) this.emit('workerIdle', info(worker))
    }
    if (isNew) this.emit('workerReady', info(worker))
  }

  #dispatch (worker: Worker, job: Job): void {
    for (const s of worker.services) s.idle.delete(worker)
    worker.job = job
    worker.jobStartedAt = Date.now()
    job.worker = worker
    this.#inFlight.set(job.id, job)
    if (this.options.jobTimeout > 0) job.timer = setTimeout(this.#onJobTimeout, this.options.jobTimeout, job)
    const msg = [worker.id, EMPTY, MDPW_FRAME, REQUEST_FRAME, job.idFrame, worker.extended ? job.service.nameFrame : EMPTY]
    for (let i = 0; i < job.body.length; i++) msg.push(job.body[i]!)
    this.#toWorkers!.send(msg)
    if (this.listenerCount('workerBusy') > 0) this.emit('workerBusy', info(worker), job.id)
  }

  /** A job is over (answered, lost or timed out): forget it and its timer. */
  #endJob (job: Job): void {
    clearTimeout(job.timer)
    job.timer = undefined
    job.worker = undefined
    this.#inFlight.delete(job.id)
    if (this.#inFlight.size === 0 && this.#drainWaiters.length > 0) this.#wakeDrainers()
  }

  readonly #onJobTimeout = (job: Job): void => {
    const worker = job.worker
    if (worker === undefined || worker.job !== job) return
    job.timer = undefined
    this.#jobTimeouts++
    const snapshot = info(worker)
    worker.job = undefined
    this.#endJob(job)
    this.#answer(job.client, job.envelope, Status.TIMEOUT)
    this.emit('jobTimeout', snapshot, job.id)
    this.#dropWorker(worker, 'timeout', true)
  }

  #workerProtocolError (worker: Worker, reason: string): void {
    this.#protocolErrors++
    this.emit('protocolError', 'backend', worker.hex, reason)
    this.#dropWorker(worker, 'protocol', true)
  }

  /** Removes a worker from the pool; its job in flight is answered 502 or requeued. */
  #dropWorker (worker: Worker, reason: WorkerGoneReason, disconnect: boolean): void {
    if (worker.gone) return
    worker.gone = true
    this.#workers.delete(worker.key)
    for (const s of worker.services) {
      s.idle.delete(worker)
      s.workers--
    }
    if (disconnect) this.#sendDisconnect(worker.id)
    const job = worker.job
    const snapshot = info(worker)
    worker.job = undefined
    worker.jobStartedAt = undefined
    if (this.#workers.size === 0) this.#stopTicker()
    if (job !== undefined) this.#jobLost(job)
    this.emit('workerGone', snapshot, reason)
  }

  /**
   * A worker sent DISCONNECT. The project's workers send it only once every job they
   * took is answered, so a job an extended worker still holds crossed its DISCONNECT
   * on the wire and never ran: it goes to another worker, as an undelivered one does,
   * instead of costing its client a 502 (a worker that retires under load hits this
   * window). A plain MDP worker's job is lost (502, or requeued when asked).
   */
  #workerLeft (worker: Worker): void {
    this.#dropUndelivered(worker, 'disconnect', worker.extended ? worker.job : undefined)
  }

  /** Drops a worker that `job` (if any) never reached: the job goes to another worker. */
  #dropUndelivered (worker: Worker, reason: WorkerGoneReason, job: Job | undefined): void {
    if (job !== undefined) worker.job = undefined
    this.#dropWorker(worker, reason, false)
    if (job !== undefined) this.#undelivered(job)
  }

  #jobLost (job: Job): void {
    this.#endJob(job)
    if (!this.options.requeue || job.requeued || this.#state !== 'bound') {
      this.#answer(job.client, job.envelope, Status.WORKER_LOST)
      return
    }
    job.requeued = true
    this.#requeued++
    this.#redispatch(job)
  }

  /**
   * Hands a job that was accepted already to the least recently used idle worker, or
   * puts it first in its queue (past the maxQueue bound).
   */
  #redispatch (job: Job): void {
    const worker = firstOf(job.service.idle)
    if (worker !== undefined) {
      this.#dispatch(worker, job)
    } else {
      job.service.queue.unshift(job)
      this.#queued++
    }
  }

  #sendDisconnect (id: Buffer): void {
    this.#toWorkers!.send([id, ...DISCONNECT])
  }

  readonly #onWorkerSendFailure = (msg: readonly Buffer[], err: Error & { code?: string }): void => {
    const worker = this.#workers.get(msg[0]!.toString('latin1'))
    if (worker === undefined || err.code === 'ENOTSOCK') return
    this.emit('protocolError', 'backend', worker.hex, `send failed (${err.code ?? err.message})`)
    // A REQUEST that could not be sent never reached the worker: the job did not run,
    // so it goes to another worker (or back to the head of its queue) whatever
    // `requeue` says, instead of costing its client a 502.
    this.#dropUndelivered(worker, 'unreachable', msg[3] === REQUEST_FRAME && worker.job?.idFrame === msg[4] ? worker.job : undefined)
  }

  #undelivered (job: Job): void {
    this.#endJob(job)
    if (this.#state !== 'bound') {
      this.#answer(job.client, job.envelope, Status.UNAVAILABLE)
      return
    }
    this.#redispatch(job)
  }

  readonly #onTick = (): void => {
    this.#tick++
    const limit = this.#tick - this.options.heartbeatLiveness
    for (const worker of this.#workers.values()) {
      // Busy workers may block their event loop: jobTimeout governs them, not heartbeats.
      if (worker.job === undefined && worker.seenTick < limit) {
        this.#dropWorker(worker, 'expired', true)
      } else {
        this.#toWorkers!.send([worker.id, ...HEARTBEAT])
      }
    }
  }

  #stopTicker (): void {
    clearInterval(this.#ticker)
    this.#ticker = undefined
  }

  // -------------------------------------------------------------------------
  // Services and queues

  #addService (name: string, known: boolean): Service {
    const service: Service = { name, nameFrame: Buffer.from(name), idle: new Set(), queue: new Deque(), workers: 0, known }
    this.#services.set(name, service)
    return service
  }

  /** The startup grace is over: requests for services no worker offered get 404. */
  readonly #endGrace = (): void => {
    this.#graceTimer = undefined
    this.#graceOver = true
    for (const service of [...this.#services.values()]) {
      if (service.known) continue
      this.#services.delete(service.name)
      for (const job of service.queue.drain()) {
        this.#queued--
        this.#answer(job.client, job.envelope, Status.NO_SERVICE)
      }
    }
  }

  #answerQueued (status: number): void {
    for (const service of this.#services.values()) {
      for (const job of service.queue.drain()) {
        this.#queued--
        this.#answer(job.client, job.envelope, status)
      }
    }
  }

  #wakeDrainers (): void {
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const wake of waiters) wake()
  }
}

async function bindSocket (socket: Router, name: 'frontend' | 'backend', endpoint: string): Promise<void> {
  try {
    await socket.bind(endpoint)
  } catch (err) {
    throw brokerBindError(name, endpoint, err)
  }
}

function firstOf<T> (set: Set<T>): T | undefined {
  return set.size === 0 ? undefined : set.values().next().value
}

function info (w: Worker): WorkerInfo {
  return {
    id: w.hex,
    pid: w.pid,
    services: w.serviceNames,
    extended: w.extended,
    state: w.job === undefined ? 'idle' : 'busy',
    served: w.served,
    connectedAt: w.connectedAt,
    jobStartedAt: w.jobStartedAt,
    retiring: w.retiring || w.leaving
  }
}
