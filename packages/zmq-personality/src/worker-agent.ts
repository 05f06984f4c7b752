import { EventEmitter } from 'eventemitter3'
import type { Dealer } from 'zeromq'
import { zeromqSocketFactory, type SocketFactory } from './tokens.js'
import {
  ACK_FRAMING, FRAMING_COMPACT, NSZ_WORKER_EXTENSION, Status, decodeCompactMessage, decodeWorkerMessage, encodeCompactHeartbeat,
  encodeCredit, encodeDisconnect, encodeHeartbeat, encodeReady, encodeReply, isCompact, isDecodeError, type Body
} from '@net-server/client'
import { AgentJob, NO_BODY, creditOf, runJob, type Job, type JobHandler } from './agent-job.js'
import { Deque } from './deque.js'
import { workerStateError } from './errors.js'
import type { DisconnectReason, WorkerAgentEvents } from './events.js'
import { resolveWorkerAgentOptions, type ResolvedWorkerAgentOptions, type WorkerAgentOptions } from './options.js'
import { SendQueue } from './send-queue.js'
import { openDealer, reconnectDelay, replyFrames } from './worker-connection.js'

export type { Job, JobHandler, JobResult } from './agent-job.js'

/** Options of {@link WorkerAgent.close}. */
export interface WorkerCloseOptions {
  /** Wait for the jobs in progress to be replied to before leaving (default true). */
  readonly graceful?: boolean
  /** Longest wait for that reply in milliseconds (default: no limit). */
  readonly timeout?: number
}

type AgentState = 'new' | 'connected' | 'waiting' | 'closing' | 'closed'

const HEARTBEAT = encodeHeartbeat()
const DISCONNECT = encodeDisconnect()
/**
 * A worker's side of the backend: a DEALER that speaks MDP/0.1 with the project's
 * extension, heartbeats, and reconnects with back-off when the broker goes silent or
 * sends DISCONNECT (the Paranoid Pirate pattern). It announces the extension in READY
 * and uses it only once the broker acknowledges it (ACK); with a broker that never
 * does, it speaks RFC 7 exactly.
 *
 * Its API is pull-style, so that a server lifecycle can drive it: {@link WorkerAgent.connect},
 * then {@link WorkerAgent.next} for each job and {@link Job.reply} for its answer.
 * {@link WorkerAgent.serve} runs that loop around a handler. With `concurrency` N the
 * broker sends it up to N jobs at once (its slots, told to the broker by CREDIT), and
 * `serve` runs up to N handlers at once.
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
  /** The current connection uses the compact framing: the broker offered it in its ACK and this worker took it. */
  #compact = false
  /** The broker's ACK said it takes CREDIT, up to this many slots; 0 when it did not. */
  #creditMax = 0
  /** Jobs this worker takes at once: `concurrency`, or what {@link WorkerAgent.setSlots} set. */
  #slots: number
  /** Connected, but READY waits until the jobs in progress are answered. */
  #readyPending = false
  readonly #jobs = new Deque<AgentJob>()
  #waiters: ((job: AgentJob | undefined) => void)[] = []
  /** The jobs handed out by next() and not yet replied to. */
  readonly #running = new Set<AgentJob>()
  /** Wakes on the next reply while jobs run (a graceful close waits for the last one). */
  #replyWaiters: (() => void)[] = []
  #closing: Promise<void> | undefined
  /** A fast close came during a graceful one: the jobs in progress are no longer awaited. */
  #hurried = false
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
    this.#slots = this.options.concurrency
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

  /** Jobs handed out by {@link WorkerAgent.next} and not replied to yet. */
  get running (): number {
    return this.#running.size
  }

  /** Jobs this worker takes at once: `concurrency`, until {@link WorkerAgent.setSlots} changes it. */
  get slots (): number {
    return this.#slots
  }

  /**
   * Gives up a job that was handed out and not replied to (stuck past its deadline,
   * say): the broker is told (502, once it acknowledged the extension), the job no
   * longer counts as running, so a graceful close does not wait for it, and its own
   * reply can no longer be sent (`job.reply` throws `NSZ_ERR_JOB_REPLIED`). False when
   * the job was not running.
   */
  abandon (job: Job): boolean {
    const held = job as AgentJob
    if (!this.#running.delete(held)) return false
    held.markReplied()
    if (this.#acked && !this.#readyPending && held.generation === this.#generation) {
      this.#sender?.send(encodeReply(held.idFrame, NO_BODY, Status.WORKER_LOST))
    }
    this.#wakeReplyWaiters()
    if (this.#readyPending && this.#running.size === 0 && this.#state === 'connected') this.#sendReady()
    this.#handOut()
    return true
  }

  /**
   * Changes how many jobs this worker takes at once (0: none), and tells the broker
   * (CREDIT) when its ACK said it takes credit; with a broker that does not, the
   * worker gets one job at a time whatever this says. Jobs received past the new
   * number are declined (503 to the broker, which sends them to another worker).
   * For a worker that must take no more jobs, e.g. its last one before it is replaced.
   */
  setSlots (slots: number): void {
    if (!Number.isInteger(slots) || slots < 0 || slots > this.options.concurrency) {
      throw new RangeError(`slots must be an integer from 0 to options.concurrency (${this.options.concurrency}), not ${String(slots)}`)
    }
    if (slots === this.#slots) return
    this.#slots = slots
    this.#sendCredit()
    // Jobs received but not handed out past the new number go back at once.
    while (this.#creditMax > 0 && this.#jobs.length > 0 && this.#running.size + this.#jobs.length > slots) {
      this.#decline(this.#jobs.pop()!)
    }
    this.#handOut()
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
   * The broker sends at most `concurrency` jobs before their replies: with the
   * default 1, the next comes after the reply to this one.
   */
  next (): Promise<Job | undefined> {
    if (this.#state === 'closing' || this.#state === 'closed') return Promise.resolve(undefined)
    if (this.#waiters.length === 0 && this.#hasFreeSlot()) {
      const job = this.#jobs.shift()
      if (job !== undefined) {
        this.#running.add(job)
        return Promise.resolve(job)
      }
    }
    return new Promise((resolve) => { this.#waiters.push(resolve) })
  }

  /**
   * True while fewer jobs run than the slots. A broker that takes no CREDIT sends one
   * job at a time and cannot be told to stop: what it sends runs.
   */
  #hasFreeSlot (): boolean {
    return this.#creditMax === 0 || this.#running.size < this.#slots
  }

  /** Hands received jobs to the callers of next() that wait, while fewer than `slots` run. */
  #handOut (): void {
    while (this.#waiters.length > 0 && this.#jobs.length > 0 && this.#hasFreeSlot()) {
      const job = this.#jobs.shift()!
      this.#running.add(job)
      this.#waiters.shift()!(job)
    }
  }

  /** Gives a job that never ran back to the broker (503), which sends it to another worker. */
  #decline (job: { readonly idFrame: Buffer }): void {
    this.#sender?.send(encodeReply(job.idFrame, NO_BODY, Status.UNAVAILABLE))
  }

  /**
   * Serves jobs with `handler` until the agent closes (connecting first if needed),
   * up to `concurrency` at once. The handler's result is the reply body; a throw
   * becomes status 500 with the error's message, and the worker keeps serving.
   * Resolves once the agent closes and every handler started has returned.
   */
  async serve (handler: JobHandler): Promise<void> {
    if (this.#state === 'new') await this.connect()
    const handlers = new Set<Promise<void>>()
    for (;;) {
      const job = await this.next()
      if (job === undefined) break
      const running = runJob(job, handler).finally(() => { handlers.delete(running) })
      handlers.add(running)
    }
    await Promise.all(handlers)
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
      // A fast close during a graceful one hurries it: the jobs in progress are
      // abandoned instead of awaited.
      if (!graceful) this.#hurry()
      return this.#closing
    }
    this.#closing = this.#close(graceful, options.timeout)
    return this.#closing
  }

  #hurry (): void {
    this.#hurried = true
    this.#wakeReplyWaiters()
  }

  #wakeReplyWaiters (): void {
    if (this.#replyWaiters.length === 0) return
    const waiting = this.#replyWaiters
    this.#replyWaiters = []
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
    if (graceful && this.#running.size > 0 && was === 'connected') {
      const wait = { over: false }
      const timer = timeout === undefined ? undefined : setTimeout(() => { wait.over = true; this.#wakeReplyWaiters() }, timeout)
      while (this.#running.size > 0 && !wait.over && !this.#hurried) {
        await new Promise<void>((resolve) => { this.#replyWaiters.push(resolve) })
      }
      clearTimeout(timer)
    }
    this.#stopHeartbeat()
    const socket = this.#socket
    if (socket !== undefined) {
      // DISCONNECT tells an extended broker that every job this worker started has its
      // reply: the jobs still running are abandoned now (502 each, which the broker
      // treats as the loss of the job: requeued when asked for), and their own replies
      // are dropped.
      if (this.#acked && !this.#readyPending) {
        let abandoned = false
        for (const job of this.#running) {
          if (job.generation !== this.#generation) continue
          this.#sender!.send(encodeReply(job.idFrame, NO_BODY, Status.WORKER_LOST))
          abandoned = true
        }
        if (abandoned) this.#generation++
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
    const socket = openDealer(this.options, this.#sockets)
    const generation = ++this.#generation
    this.#socket = socket
    this.#sender = new SendQueue(socket, this.#onSendFailure)
    this.#healthy = false
    this.#acked = false
    this.#compact = false
    this.#state = 'connected'
    this.#creditMax = 0
    this.#receive(socket, generation)
    if (this.#running.size === 0) {
      this.#sendReady()
    } else {
      this.#readyPending = true
    }
  }

  /** Tells the broker this worker's slots, when its ACK said it takes CREDIT and the slots are not the one it assumes. */
  #sendCredit (): void {
    if (this.#creditMax === 0 || this.#readyPending || this.#sender === undefined) return
    this.#sender.send(encodeCredit(Math.min(this.#slots, this.#creditMax)))
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
    const { delay, backoff } = reconnectDelay(reason, this.#healthy, this.#backoff, this.options.reconnectMaxInterval)
    this.#backoff = backoff
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
    const m = this.#compact && isCompact(msg) ? decodeCompactMessage(msg) : decodeWorkerMessage(msg, this.#acked)
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
        if (this.#creditMax > 0 && this.#running.size + this.#jobs.length >= this.#slots) {
          // Sent before the broker read this worker's lower CREDIT: it goes to another worker.
          this.#decline({ idFrame: m.jobId })
          return
        }
        this.#jobs.push(new AgentJob(m.jobId, m.service ?? this.options.services[0]!, m.body, generation, this.#sendReply))
        this.#handOut()
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
        this.#creditMax = creditOf(m.params)
        if (this.options.compactFraming && m.params[ACK_FRAMING] === FRAMING_COMPACT) {
          // A compact HEARTBEAT takes the offer: the broker's REQUESTs go compact once it reads it.
          this.#compact = true
          this.#sender?.send(encodeCompactHeartbeat())
        }
        if (this.#slots !== 1) this.#sendCredit()
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
    if (this.#running.delete(job)) this.#wakeReplyWaiters()
    let sent = false
    if (job.generation === this.#generation && this.#sender !== undefined && !this.#readyPending) {
      this.#sender.send(replyFrames(this.#compact, this.#acked, job.idFrame, body, status))
      this.#served++
      sent = true
    } else {
      this.emit('replyDropped', job.id)
    }
    if (this.#readyPending && this.#running.size === 0 && this.#state === 'connected') this.#sendReady()
    this.#handOut()
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
