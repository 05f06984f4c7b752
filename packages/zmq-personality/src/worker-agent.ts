import { EventEmitter } from 'eventemitter3'
import { randomBytes } from 'node:crypto'
import type { Dealer } from 'zeromq'
import { isIpv6Endpoint } from './endpoints.js'
import { zeromqSocketFactory, type SocketFactory } from './tokens.js'
import {
  NSZ_WORKER_EXTENSION, Status, decodeWorkerMessage, encodeDisconnect, encodeHeartbeat, encodeReady, encodeReply,
  encodeRfc7Reply, isDecodeError, type Body
} from '@net-server/client'
import { Deque } from './deque.js'
import { jobRepliedError, workerConnectError, workerStateError } from './errors.js'
import type { DisconnectReason, WorkerAgentEvents } from './events.js'
import { resolveWorkerAgentOptions, type ResolvedWorkerAgentOptions, type WorkerAgentOptions } from './options.js'
import { SendQueue } from './send-queue.js'

/** A request that the broker sent to this worker. */
export interface Job {
  /** The broker's job id, in hex; it identifies the job in the broker's events. */
  readonly id: string
  /** The service the request is for (the READY service when the broker does not say). */
  readonly service: string
  /** The request body, one Buffer per frame. */
  readonly body: Buffer[]
  /** True once {@link Job.reply} has been called. */
  readonly replied: boolean
  /**
   * Sends the reply. `status` reaches clients of the project's dialect (and becomes an
   * `ERROR <status> ...` frame for the others). Until the broker has acknowledged the
   * extension (and always with `extension: false`) the reply is plain RFC 7, and a
   * failure travels as that one `ERROR <status> <message>` body frame. Returns false when the reply was dropped because the connection it came
   * on has been lost. Throws `NSZ_ERR_JOB_REPLIED` on a second call, and a RangeError
   * for 502 and 503: from a worker those tell the broker that the worker leaves.
   */
  reply (body?: Body, status?: number): boolean
}

/** What a {@link WorkerAgent.serve} handler may return: the reply body. */
export type JobResult = Body | null | undefined

/** A job handler for {@link WorkerAgent.serve}. */
export type JobHandler = (job: Job) => JobResult | Promise<JobResult>

/** Options of {@link WorkerAgent.close}. */
export interface WorkerCloseOptions {
  /** Wait for the job in progress to be replied to before leaving (default true). */
  readonly graceful?: boolean
  /** Longest wait for that reply in milliseconds (default: no limit). */
  readonly timeout?: number
}

type AgentState = 'new' | 'connected' | 'waiting' | 'closing' | 'closed'

const HEARTBEAT = encodeHeartbeat()
const DISCONNECT = encodeDisconnect()
const NO_BODY: Buffer[] = []

class AgentJob implements Job {
  readonly id: string
  readonly service: string
  readonly body: Buffer[]
  /** The connection it came on. */
  readonly generation: number
  readonly idFrame: Buffer
  #replied = false
  readonly #send: (job: AgentJob, body: Body, status: number) => boolean

  constructor (idFrame: Buffer, service: string, body: Buffer[], generation: number, send: (job: AgentJob, body: Body, status: number) => boolean) {
    this.idFrame = idFrame
    this.id = idFrame.toString('hex')
    this.service = service
    this.body = body
    this.generation = generation
    this.#send = send
  }

  get replied (): boolean {
    return this.#replied
  }

  reply (body: Body = NO_BODY, status: number = Status.OK): boolean {
    if (status === Status.WORKER_LOST || status === Status.UNAVAILABLE) {
      throw new RangeError(`a job cannot reply ${status}: from a worker the status means that the worker leaves; use 500 or another status`)
    }
    if (this.#replied) throw jobRepliedError(this.id)
    this.#replied = true
    return this.#send(this, body, status)
  }
}

/**
 * A worker's side of the backend: a DEALER that speaks MDP/0.1 with the project's
 * extension, heartbeats, and reconnects with back-off when the broker goes silent or
 * sends DISCONNECT (the Paranoid Pirate pattern). It announces the extension in READY
 * and uses it only once the broker acknowledges it (ACK); with a broker that never
 * does, it speaks RFC 7 exactly.
 *
 * Its API is pull-style, so that a server lifecycle can drive it: {@link WorkerAgent.connect},
 * then {@link WorkerAgent.next} for each job and {@link Job.reply} for its answer.
 * {@link WorkerAgent.serve} runs that loop around a handler.
 *
 * @example
 * ```ts
 * const agent = new WorkerAgent({ endpoint: 'tcp://127.0.0.1:6661', services: ['upper'] })
 * await agent.serve((job) => job.body.map((f) => f.toString().toUpperCase()))
 * ```
 */
export class WorkerAgent extends EventEmitter<WorkerAgentEvents> {
  /** The resolved options. */
  readonly options: ResolvedWorkerAgentOptions

  #state: AgentState = 'new'
  #socket: Dealer | undefined
  #sender: SendQueue | undefined
  /** Counts connections; a job remembers the one it came on. */
  #generation = 0
  #liveness = 0
  #heartbeat: NodeJS.Timeout | undefined
  #reconnectTimer: NodeJS.Timeout | undefined
  #backoff: number
  /** The current connection has heard from the broker. */
  #healthy = false
  /** The broker acknowledged the extension on the current connection. */
  #acked = false
  /** Connected, but READY waits until the job in progress is answered. */
  #readyPending = false
  readonly #jobs = new Deque<AgentJob>()
  #waiters: ((job: AgentJob | undefined) => void)[] = []
  /** The job handed out by next() and not yet replied to. */
  #current: AgentJob | undefined
  #currentDone: (() => void)[] = []
  #closing: Promise<void> | undefined
  #served = 0

  readonly #sockets: SocketFactory

  /**
   * @param options - see {@link WorkerAgentOptions}
   * @param sockets - makes the DEALER on each (re)connect; zeromq.js's by default
   */
  constructor (options: WorkerAgentOptions, sockets: SocketFactory = zeromqSocketFactory) {
    super()
    this.#sockets = sockets
    this.options = resolveWorkerAgentOptions(options)
    this.#backoff = this.options.reconnectInterval
  }

  /** `'new'`, `'connected'`, `'waiting'` (to reconnect), `'closing'` or `'closed'`. */
  get state (): AgentState {
    return this.#state
  }

  /**
   * True once the broker has acknowledged the extension on the current connection:
   * replies then carry a status and requests the service. False again on reconnect.
   */
  get acknowledged (): boolean {
    return this.#acked
  }

  /** Jobs replied to (replies dropped on a lost connection not counted). */
  get served (): number {
    return this.#served
  }

  /**
   * Connects to the broker and sends READY. Rejects with `NSZ_ERR_WORKER_CONNECT`
   * when the endpoint is refused, `NSZ_ERR_WORKER_STATE` when called twice.
   */
  async connect (): Promise<void> {
    if (this.#state !== 'new') throw workerStateError('connect', this.#state)
    this.#open()
  }

  /**
   * The next job, once the broker sends one; `undefined` once the agent is closing.
   * Jobs come one at a time: the broker sends the next after the reply to this one.
   */
  next (): Promise<Job | undefined> {
    if (this.#state === 'closing' || this.#state === 'closed') return Promise.resolve(undefined)
    const job = this.#jobs.shift()
    if (job !== undefined) {
      this.#current = job
      return Promise.resolve(job)
    }
    return new Promise((resolve) => { this.#waiters.push(resolve) })
  }

  /**
   * Serves jobs with `handler` until the agent closes (connecting first if needed).
   * The handler's result is the reply body; a throw becomes status 500 with the
   * error's message, and the worker keeps serving.
   */
  async serve (handler: JobHandler): Promise<void> {
    if (this.#state === 'new') await this.connect()
    for (;;) {
      const job = await this.next()
      if (job === undefined) return
      let result: JobResult
      try {
        result = await handler(job)
      } catch (err) {
        if (!job.replied) job.reply(err instanceof Error ? err.message : String(err), Status.APP_ERROR)
        continue
      }
      if (!job.replied) job.reply(result ?? NO_BODY)
    }
  }

  /**
   * Leaves the broker: `next()` returns `undefined` from now on, the job in progress
   * is awaited (when `graceful`, the default), then DISCONNECT is sent and the socket
   * closes with a short linger. Jobs received but not handed out get no answer: the
   * DISCONNECT tells an extended broker to give them to another worker.
   */
  close (options: WorkerCloseOptions = {}): Promise<void> {
    const graceful = options.graceful ?? true
    if (this.#closing !== undefined) {
      // A fast close during a graceful one hurries it: the job in progress is
      // abandoned instead of awaited.
      if (!graceful) this.#hurry()
      return this.#closing
    }
    this.#closing = this.#close(graceful, options.timeout)
    return this.#closing
  }

  #hurry (): void {
    const waiting = this.#currentDone.splice(0)
    for (const resolve of waiting) resolve()
  }

  async #close (graceful: boolean, timeout: number | undefined): Promise<void> {
    const was = this.#state
    this.#state = 'closing'
    clearTimeout(this.#reconnectTimer)
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake(undefined)
    // A job not handed out yet never ran: a broker that acknowledged the extension
    // takes it back when it reads the DISCONNECT below and gives it to another worker.
    for (const job of this.#jobs.drain()) {
      if (!this.#acked) this.emit('replyDropped', job.id)
    }
    if (graceful && this.#current !== undefined && was === 'connected') {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#currentDone.push(resolve)
        if (timeout !== undefined) timer = setTimeout(resolve, timeout)
      })
      clearTimeout(timer)
    }
    this.#stopHeartbeat()
    const socket = this.#socket
    if (socket !== undefined) {
      // DISCONNECT tells an extended broker that every job this worker started has its
      // reply: a job still running is abandoned now (502, which the broker treats as
      // the loss of the job: requeued when asked for), and its own reply is dropped.
      const running = this.#current
      if (running !== undefined && this.#acked && !this.#readyPending && running.generation === this.#generation) {
        this.#sender!.send(encodeReply(running.idFrame, NO_BODY, Status.WORKER_LOST))
        this.#generation++
      }
      if (!this.#readyPending) this.#sender!.send(DISCONNECT)
      await this.#sender!.flushed()
      // A fast stop may come after the broker has gone: its 502 and DISCONNECT get a
      // short while to leave, well under the 500 ms after which zeromq.js warns at exit.
      if (!graceful && !socket.closed) socket.linger = Math.min(this.options.linger, 100)
      socket.close()
      this.#socket = undefined
      this.#sender = undefined
    }
    this.#state = 'closed'
    if (was !== 'new') this.emit('disconnected', 'close')
  }

  // -------------------------------------------------------------------------
  // Connection

  #open (): void {
    // sendTimeout 0: a send either queues at once or fails, and skips the writability
    // check that a blocking send makes first (a syscall per reply). A DEALER that has
    // connected queues messages for the broker even while the connection is down, so
    // a send fails only past the high-water mark (1000 messages), see #onSendFailure.
    const socket = this.#sockets.dealer({
      ...this.options.socketOptions,
      linger: this.options.linger,
      sendTimeout: 0,
      ipv6: isIpv6Endpoint(this.options.endpoint),
      // A fresh id per connection: a ROUTER refuses an id it still holds from the last one.
      ...(this.options.routingIdPrefix === undefined ? {} : { routingId: this.options.routingIdPrefix + randomBytes(6).toString('hex') })
    })
    try {
      socket.connect(this.options.endpoint)
    } catch (err) {
      socket.close()
      throw workerConnectError(this.options.endpoint, err)
    }
    const generation = ++this.#generation
    this.#socket = socket
    this.#sender = new SendQueue(socket, this.#onSendFailure)
    this.#healthy = false
    this.#acked = false
    this.#state = 'connected'
    this.#receive(socket, generation)
    if (this.#current === undefined) {
      this.#sendReady()
    } else {
      this.#readyPending = true
    }
  }

  #sendReady (): void {
    this.#readyPending = false
    const [service, ...more] = this.options.services
    this.#sender!.send(encodeReady(service!, this.options.extension ? { pid: process.pid, services: more } : undefined))
    this.#liveness = this.options.heartbeatLiveness
    this.#heartbeat ??= setInterval(this.#onHeartbeat, this.options.heartbeatInterval)
    this.emit('ready', this.options.endpoint)
  }

  readonly #onHeartbeat = (): void => {
    if (--this.#liveness <= 0) {
      this.#reconnect('silence')
      return
    }
    this.#sender?.send(HEARTBEAT)
  }

  #stopHeartbeat (): void {
    clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
  }

  /** Drops the connection and, unless closing, opens a new one after the back-off. */
  #reconnect (reason: DisconnectReason): void {
    this.#stopHeartbeat()
    this.#socket?.close()
    this.#socket = undefined
    this.#sender = undefined
    // Jobs not handed out yet came on this connection: the broker counts them lost.
    for (const job of this.#jobs.drain()) this.emit('replyDropped', job.id)
    this.emit('disconnected', reason)
    if (this.#state === 'closing') return
    // A DISCONNECT on a connection that worked is answered at once (RFC 7); anything
    // else waits, twice as long each time until a connection works again.
    const prompt = reason === 'disconnect' && this.#healthy
    const delay = prompt ? 0 : this.#backoff
    if (!prompt) this.#backoff = Math.min(this.#backoff * 2, this.options.reconnectMaxInterval)
    this.#state = 'waiting'
    this.emit('reconnecting', delay)
    this.#reconnectTimer = setTimeout(this.#reopen, delay)
  }

  readonly #reopen = (): void => {
    this.#reconnectTimer = undefined
    if (this.#state !== 'waiting') return
    try {
      this.#open()
    } catch (err) {
      this.emit('error', err as Error)
      this.#state = 'waiting'
      this.#reconnectTimer = setTimeout(this.#reopen, this.#backoff)
    }
  }

  async #receive (socket: Dealer, generation: number): Promise<void> {
    for (;;) {
      let msg: Buffer[]
      try {
        msg = await socket.receive()
      } catch {
        // Closed by a reconnect or by close().
        return
      }
      if (generation !== this.#generation) return
      try {
        this.#onMessage(msg, generation)
      } catch (err) {
        this.emit('error', err as Error)
      }
    }
  }

  #onMessage (msg: Buffer[], generation: number): void {
    this.#liveness = this.options.heartbeatLiveness
    const m = decodeWorkerMessage(msg, this.#acked)
    if (isDecodeError(m)) {
      this.emit('protocolError', m.error)
      return
    }
    switch (m.command) {
      case 'heartbeat':
        this.#markHealthy()
        return
      case 'request': {
        this.#markHealthy()
        // While closing, a new job is left unanswered: the DISCONNECT that close() sends
        // gives it back to the broker (with the extension), which has not run it.
        if (this.#state === 'closing') return
        const job = new AgentJob(m.jobId, m.service ?? this.options.services[0]!, m.body, generation, this.#sendReply)
        const waiter = this.#waiters.shift()
        if (waiter !== undefined) {
          this.#current = job
          waiter(job)
        } else {
          this.#jobs.push(job)
        }
        return
      }
      case 'disconnect':
        this.#reconnect('disconnect')
        return
      case 'ack':
        // Only an answer to our own announcement counts; a broker that acknowledges
        // another version of the extension gets plain RFC 7.
        if (!this.options.extension || this.#acked || m.extension !== NSZ_WORKER_EXTENSION) break
        this.#acked = true
        this.#markHealthy()
        return
      default:
        break
    }
    this.emit('protocolError', `unexpected ${m.command.toUpperCase()} from the broker`)
  }

  #markHealthy (): void {
    if (this.#healthy) return
    this.#healthy = true
    this.#backoff = this.options.reconnectInterval
  }

  readonly #sendReply = (job: AgentJob, body: Body, status: number): boolean => {
    if (this.#current === job) {
      this.#current = undefined
      const done = this.#currentDone
      this.#currentDone = []
      for (const wake of done) wake()
    }
    let sent = false
    if (job.generation === this.#generation && this.#sender !== undefined && !this.#readyPending) {
      this.#sender.send(this.#acked ? encodeReply(job.idFrame, body, status) : encodeRfc7Reply(job.idFrame, body, status))
      this.#served++
      sent = true
    } else {
      this.emit('replyDropped', job.id)
    }
    if (this.#readyPending && this.#current === undefined && this.#state === 'connected') this.#sendReady()
    return sent
  }

  readonly #onSendFailure = (_msg: readonly Buffer[], err: Error & { code?: string }): void => {
    if (err.code === 'ENOTSOCK') return
    if (err.code === 'EAGAIN') {
      // A thousand messages queued for a broker that reads none: treat it as gone. The
      // broker answers the job of the old connection once it finds that peer gone.
      if (this.#state === 'connected') this.#reconnect('silence')
      return
    }
    this.emit('error', err)
  }
}
