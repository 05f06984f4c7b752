/**
 * The pipelined client: one DEALER socket, many requests in flight, typed errors.
 */

import { randomBytes } from 'node:crypto'
import { Dealer } from 'zeromq'
import { connectSocket } from './connect.js'
import { badReplyError, closedError, connectionLostError, socketError, statusError, timeoutError } from './errors.js'
import {
  type BaseClientOptions, type RequestOptions, type ResolvedBaseClientOptions,
  checkPositiveInteger, resolveBaseOptions, resolveRequestOptions
} from './options.js'
import { type Body, NSZC, Status, isDecodeError } from './protocol.js'
import { decodeNszReply, encodeNszRequest } from './protocol-frontend.js'
import { toFrames } from './payload.js'

/** Options of {@link Client}. */
export interface ClientOptions extends BaseClientOptions {
  /**
   * How many requests may wait for a reply at once. Further requests wait their turn
   * in order, without being sent (piscina's `maxQueue` on the other side of the wire).
   */
  readonly maxInFlight?: number
}

/** {@link ClientOptions} with every default filled in. */
export interface ResolvedClientOptions extends ResolvedBaseClientOptions {
  readonly maxInFlight: number
}

/** Defaults of {@link ClientOptions} besides the shared ones. */
export const clientDefaults = {
  maxInFlight: 256
} as const

/** Counters of a {@link Client}, for tests and metrics. */
export interface ClientStats {
  /** Messages sent, resends included. */
  readonly sent: number
  /** Resends after a timeout, or after the connection dropped. */
  readonly retried: number
  /** Connections to the broker that dropped while this client was open. */
  readonly connectionsLost: number
  /** Replies matched to a waiting request. */
  readonly received: number
  /** Replies dropped because nothing waits for their id any more: late or duplicate. */
  readonly late: number
  /** Replies dropped because their id is not one this client made. */
  readonly foreign: number
  /** Messages dropped because they are not replies of the `NSZC01` dialect. */
  readonly malformed: number
  /** Requests sent and waiting for their reply. */
  readonly inFlight: number
  /** Requests waiting for a free slot (see {@link ClientOptions.maxInFlight}). */
  readonly queued: number
}

// Request states: waiting for a slot, on the wire, settled.
const QUEUED = 0
const ACTIVE = 1
const DONE = 2
type State = typeof QUEUED | typeof ACTIVE | typeof DONE

interface Pending {
  readonly seq: number
  readonly frames: Buffer[]
  readonly timeout: number
  readonly retries: number
  readonly resolve: (body: Buffer[]) => void
  readonly reject: (err: unknown) => void
  readonly signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  state: State
  attempts: number
  timer: NodeJS.Timeout | undefined
  /** In the send queue and not yet handed to the socket. */
  unsent: boolean
  /** How many connections had dropped when it was last handed to the socket. */
  sentAfter: number
}

const REQUEST_ID_LENGTH = 8

/**
 * How long after a connection drops the requests sent on it are resent (ms): the
 * replies that came before the drop are read first, so that a request already
 * answered is not sent again.
 */
const RESEND_AFTER_DROP_MS = 25

/**
 * A client that keeps many requests in flight on one DEALER socket, in the project's
 * `NSZC01` dialect: each request carries an 8-byte id (a random prefix per client and a
 * counter) that the reply echoes, with a status that becomes a typed error.
 *
 * A request that gets no reply within `timeout` ms is sent again with the same id,
 * `retries` times, then rejects with `NSZ_ERR_CLIENT_TIMEOUT`; whichever reply comes
 * first settles it, and later copies are dropped (counted in {@link stats}). Delivery is
 * therefore at least once: with `retries` > 0 a slow job can run more than once.
 *
 * When the connection to the broker drops (the broker restarts, the link fails), no
 * reply can come for the requests sent on it: each is sent again at once (it waits in
 * the socket until the connection is back) as one of its `retries`, or rejects with
 * `NSZ_ERR_CLIENT_CONNECTION_LOST` when it has none left.
 *
 * At most `maxInFlight` requests are on the wire; more wait their turn, first in first
 * out, and their timeout starts when they are sent. Close the client when done: its
 * socket keeps the process alive.
 *
 * @example
 * ```ts
 * const client = new Client({ endpoint: 'tcp://localhost:6660' })
 * const [upper] = await client.request('uppercase', 'hello', { timeout: 1000 })
 * client.close()
 * ```
 */
export class Client {
  readonly #options: ResolvedClientOptions
  readonly #socket: Dealer
  readonly #prefix: number
  readonly #prefixBytes: Buffer
  #seq = 0
  readonly #inFlight = new Map<number, Pending>()
  readonly #backlog: Pending[] = []
  #backlogHead = 0
  #queued = 0
  readonly #sendQueue: Pending[] = []
  #sending = false
  #closed = false
  #serviceName = ''
  #serviceFrame = Buffer.alloc(0)
  #sent = 0
  #retried = 0
  #received = 0
  #late = 0
  #foreign = 0
  #malformed = 0
  /** Connections that dropped after their handshake; a request sent before the latest may be lost. */
  #drops = 0
  #established = false
  #resendTimer: NodeJS.Timeout | undefined

  /**
   * Validates the options, connects a DEALER socket (connecting does not wait for the
   * broker) and starts receiving. Throws a TypeError or RangeError naming the bad option.
   */
  constructor (options: ClientOptions = {}) {
    const base = resolveBaseOptions(options)
    this.#options = {
      ...base,
      maxInFlight: checkPositiveInteger('options.maxInFlight', options.maxInFlight ?? clientDefaults.maxInFlight)
    }
    this.#prefixBytes = randomBytes(4)
    this.#prefix = this.#prefixBytes.readUInt32BE(0)
    // Watched before it connects, so that the first handshake is seen.
    const socket = new Dealer()
    socket.events.on('handshake', () => { this.#established = true })
    socket.events.on('disconnect', this.#onDisconnect)
    this.#socket = connectSocket(socket, this.#options)
    this.#receive().catch(() => {})
  }

  /** The resolved options. */
  get options (): ResolvedClientOptions {
    return this.#options
  }

  /** True once {@link close} was called. */
  get closed (): boolean {
    return this.#closed
  }

  /** A snapshot of the counters. */
  get stats (): ClientStats {
    return {
      sent: this.#sent,
      retried: this.#retried,
      connectionsLost: this.#drops,
      received: this.#received,
      late: this.#late,
      foreign: this.#foreign,
      malformed: this.#malformed,
      inFlight: this.#inFlight.size,
      queued: this.#queued
    }
  }

  /**
   * Sends `payload` (one frame or an array of frames) to `service` (`''` for the
   * broker's default service) and resolves with the reply body's frames (an array even
   * for one frame). Rejects with the {@link ClientError} of a failure status,
   * `NSZ_ERR_CLIENT_TIMEOUT` after the last retry, `NSZ_ERR_CLIENT_BAD_REPLY` for a reply
   * to this request that does not parse, `NSZ_ERR_CLIENT_CLOSED` on {@link close}, and
   * `signal.reason` on abort.
   */
  request (service: string, payload: Body, options?: RequestOptions): Promise<Buffer[]> {
    let resolved
    let body
    try {
      if (typeof service !== 'string') throw new TypeError('service must be a string')
      resolved = resolveRequestOptions(options, this.#options)
      body = toFrames(payload)
    } catch (err) {
      return Promise.reject(err)
    }
    if (this.#closed) return Promise.reject(closedError())
    const { timeout, retries, signal } = resolved
    if (signal?.aborted === true) return Promise.reject(signal.reason)

    const seq = this.#seq = (this.#seq + 1) >>> 0
    const id = Buffer.allocUnsafe(REQUEST_ID_LENGTH)
    this.#prefixBytes.copy(id, 0)
    id.writeUInt32BE(seq, 4)
    if (service !== this.#serviceName) {
      this.#serviceName = service
      this.#serviceFrame = Buffer.from(service)
    }
    const frames = encodeNszRequest('', id, body)
    frames[2] = this.#serviceFrame

    return new Promise<Buffer[]>((resolve, reject) => {
      const p: Pending = {
        seq,
        frames,
        timeout,
        retries,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        state: QUEUED,
        attempts: 0,
        timer: undefined,
        unsent: false,
        sentAfter: 0
      }
      if (signal !== undefined) {
        p.onAbort = () => this.#settle(p, signal.reason)
        signal.addEventListener('abort', p.onAbort, { once: true })
      }
      if (this.#inFlight.size < this.#options.maxInFlight && this.#queued === 0) {
        this.#start(p)
      } else {
        this.#backlog.push(p)
        this.#queued++
      }
    })
  }

  /**
   * Closes the socket. Every request in flight or waiting its turn rejects with
   * `NSZ_ERR_CLIENT_CLOSED`, and so do later calls. Safe to call twice.
   */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#resendTimer)
    this.#socket.close()
    for (const p of this.#inFlight.values()) this.#settle(p, closedError())
    for (let i = this.#backlogHead; i < this.#backlog.length; i++) this.#settle(this.#backlog[i]!, closedError())
    this.#backlog.length = 0
    this.#backlogHead = 0
    this.#sendQueue.length = 0
  }

  #start (p: Pending): void {
    p.state = ACTIVE
    p.attempts = 1
    this.#inFlight.set(p.seq, p)
    p.timer = setTimeout(this.#onTimeout, p.timeout, p)
    this.#enqueue(p)
  }

  readonly #onTimeout = (p: Pending): void => {
    if (p.state !== ACTIVE) return
    if (p.attempts > p.retries) {
      this.#settle(p, timeoutError(p.attempts, p.timeout))
      return
    }
    p.attempts++
    this.#retried++
    p.timer = setTimeout(this.#onTimeout, p.timeout, p)
    // Still waiting in the send queue (e.g. the socket is at its high-water mark): one copy is enough.
    if (!p.unsent) this.#enqueue(p)
  }

  /** A connection that had worked dropped: the replies it still owed will not come. */
  readonly #onDisconnect = (): void => {
    if (!this.#established || this.#closed) return
    this.#established = false
    this.#drops++
    this.#resendTimer ??= setTimeout(this.#resendLost, RESEND_AFTER_DROP_MS)
  }

  /** Sends again each request that was on a connection that has dropped; one without a retry left fails. */
  readonly #resendLost = (): void => {
    this.#resendTimer = undefined
    for (const p of [...this.#inFlight.values()]) {
      if (p.state !== ACTIVE || p.unsent || p.sentAfter >= this.#drops) continue
      if (p.attempts > p.retries) {
        this.#settle(p, connectionLostError(p.attempts))
        continue
      }
      p.attempts++
      this.#retried++
      clearTimeout(p.timer)
      p.timer = setTimeout(this.#onTimeout, p.timeout, p)
      this.#enqueue(p)
    }
  }

  #enqueue (p: Pending): void {
    p.unsent = true
    this.#sendQueue.push(p)
    if (!this.#sending) this.#flush().catch(() => {})
  }

  /** The only sender: zeromq.js allows one pending send per socket. */
  async #flush (): Promise<void> {
    this.#sending = true
    const queue = this.#sendQueue
    try {
      // The queue is drained by index and cleared at the end: shift() is linear per call.
      let i = 0
      for (; i < queue.length && !this.#closed; i++) {
        const p = queue[i]!
        p.unsent = false
        if (p.state !== ACTIVE) continue
        try {
          p.sentAfter = this.#drops
          await this.#socket.send(p.frames)
          this.#sent++
        } catch (err) {
          if (this.#closed) return
          this.#settle(p, socketError('send', err))
        }
      }
      queue.splice(0, i)
    } finally {
      this.#sending = false
    }
  }

  /** The only receiver: one loop for the life of the socket. */
  async #receive (): Promise<void> {
    for (;;) {
      let msg: Buffer[]
      try {
        msg = await this.#socket.receive()
      } catch (err) {
        if (this.#closed) return
        // Nothing else can receive on this socket: fail every caller, then close.
        const error = socketError('receive', err)
        for (const p of this.#inFlight.values()) this.#settle(p, error)
        this.close()
        return
      }
      this.#onMessage(msg)
    }
  }

  #onMessage (msg: Buffer[]): void {
    const reply = decodeNszReply(msg)
    if (isDecodeError(reply)) {
      // A reply with our id but a bad status frame still tells us which request failed.
      const p = msg.length >= 3 && msg[1]!.toString() === NSZC ? this.#lookup(msg[2]!) : undefined
      if (p === undefined) {
        this.#malformed++
        return
      }
      this.#settle(p, badReplyError(`${NSZC} reply without a valid status frame`))
      return
    }
    const p = this.#lookup(reply.requestId)
    if (p === undefined) return
    this.#received++
    if (reply.status === Status.OK) this.#settle(p, undefined, reply.body)
    else this.#settle(p, statusError(reply.status, reply.body.length === 0 ? undefined : Buffer.concat(reply.body).toString()))
  }

  /** The request waiting for this id; counts the reply as foreign or late when there is none. */
  #lookup (id: Buffer): Pending | undefined {
    if (id.length !== REQUEST_ID_LENGTH || id.readUInt32BE(0) !== this.#prefix) {
      this.#foreign++
      return undefined
    }
    const p = this.#inFlight.get(id.readUInt32BE(4))
    if (p === undefined) this.#late++
    return p
  }

  #settle (p: Pending, err: unknown, body?: Buffer[]): void {
    const state = p.state
    if (state === DONE) return
    p.state = DONE
    if (p.onAbort !== undefined) p.signal!.removeEventListener('abort', p.onAbort)
    if (state === ACTIVE) {
      clearTimeout(p.timer)
      this.#inFlight.delete(p.seq)
      this.#admit()
    } else if (--this.#queued === 0) {
      // Only settled requests are left in the backlog.
      this.#backlog.length = 0
      this.#backlogHead = 0
    }
    if (body !== undefined) p.resolve(body)
    else p.reject(err)
  }

  /** Starts waiting requests while there is room, in order. */
  #admit (): void {
    const backlog = this.#backlog
    while (this.#queued > 0 && this.#inFlight.size < this.#options.maxInFlight && !this.#closed) {
      const p = backlog[this.#backlogHead++]!
      if (p.state !== QUEUED) continue
      this.#queued--
      this.#start(p)
    }
    if (this.#backlogHead === backlog.length) {
      backlog.length = 0
      this.#backlogHead = 0
    } else if (this.#backlogHead > 1024 && this.#backlogHead * 2 > backlog.length) {
      backlog.splice(0, this.#backlogHead)
      this.#backlogHead = 0
    }
  }
}
