/**
 * The lazy pirate client of the ZeroMQ guide: one REQ socket, a timeout and retries.
 */

import { Request } from 'zeromq'
import { connectSocket } from './connect.js'
import { badReplyError, closedError, connectionLostError, socketError, statusError, timeoutError } from './errors.js'
import {
  type BaseClientOptions, type RequestOptions, type ResolvedBaseClientOptions,
  resolveBaseOptions, resolveRequestOptions
} from './options.js'
import { type Body, MDPC } from './protocol.js'
import { decodeErrorFrame, replyDialect } from './protocol-frontend.js'
import { toFrames } from './payload.js'

/** What {@link LazyPirateClientOptions.onRetry} is told before each resend. */
export interface RetryEvent {
  /** The attempt that got no reply, from 1. */
  readonly attempt: number
  /** How many resends the request may make in all. */
  readonly retries: number
  /** How long the attempt waited, in ms. */
  readonly timeout: number
}

/** Options of {@link LazyPirateClient}. */
export interface LazyPirateClientOptions extends BaseClientOptions {
  /**
   * Speak the MDP/0.1 client dialect and ask for this service; without it the client
   * sends plain REQ requests, which the broker hands to its default service.
   */
  readonly service?: string
  /** Called before each resend, e.g. to print progress. */
  readonly onRetry?: (event: RetryEvent) => void
}

/** {@link LazyPirateClientOptions} with every default filled in. */
export interface ResolvedLazyPirateClientOptions extends ResolvedBaseClientOptions {
  readonly service: string | undefined
  readonly onRetry: ((event: RetryEvent) => void) | undefined
}

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

const MDPC_FRAME = Buffer.from(MDPC)
const TIMED_OUT = Symbol('timed out')
const DROPPED = Symbol('connection dropped')

/** How long after its connection drops an attempt is given up (ms): a reply that came before the drop is read first. */
const GIVE_UP_AFTER_DROP_MS = 25

/**
 * A reliable request-reply client over one REQ socket (the ZeroMQ guide's "lazy
 * pirate"): it sends a request and waits `timeout` ms for the reply; when none comes it
 * closes the socket, opens a fresh one and resends, `retries` times, then rejects with
 * `NSZ_ERR_CLIENT_TIMEOUT`. It talks to any broker that serves REQ clients (the seed's
 * broker, net-server-zmq's, a plain REP server); with `service` it speaks MDP/0.1.
 * When the connection drops while it waits (the broker restarts), no reply can come:
 * the attempt ends at once and counts as one that timed out, and the last one rejects
 * with `NSZ_ERR_CLIENT_CONNECTION_LOST`.
 *
 * A REQ socket carries one request at a time: concurrent calls of {@link request} wait
 * their turn, in order. Use {@link Client} for many requests in flight.
 *
 * A one-frame reply `ERROR <status> <message>` is how the broker reports a failure to
 * REQ and MDP clients: the request rejects with the {@link ClientError} of that status.
 *
 * @example
 * ```ts
 * const client = new LazyPirateClient({ endpoint: 'tcp://localhost:6660', timeout: 2500, retries: 3 })
 * const [reply] = await client.request('hello')
 * client.close()
 * ```
 */
export class LazyPirateClient {
  readonly #options: ResolvedLazyPirateClientOptions
  #socket: Request | undefined
  /** The socket whose connection dropped while an attempt waited on it, and the timer that gives that attempt up. */
  #dropped: Request | undefined
  #dropTimer: NodeJS.Timeout | undefined
  /** The attempt under way (one object each), with its socket, while it waits for its reply. */
  #waiting: { readonly socket: Request } | undefined
  #busy = false
  #closed = false
  readonly #waiters: Waiter[] = []

  /**
   * Validates the options and connects a REQ socket (connecting does not wait for the
   * broker). Throws a TypeError or RangeError naming the bad option.
   */
  constructor (options: LazyPirateClientOptions = {}) {
    const base = resolveBaseOptions(options)
    const { service, onRetry } = options
    if (service !== undefined && (typeof service !== 'string' || service === '')) {
      throw new TypeError('options.service must be a non-empty string')
    }
    if (onRetry !== undefined && typeof onRetry !== 'function') throw new TypeError('options.onRetry must be a function')
    this.#options = { ...base, service, onRetry }
    this.#socket = this.#open()
  }

  /** The resolved options. */
  get options (): ResolvedLazyPirateClientOptions {
    return this.#options
  }

  /** True once {@link close} was called. */
  get closed (): boolean {
    return this.#closed
  }

  /**
   * Sends `payload` (one frame, or an array of frames) and resolves with the reply's
   * frames (an array even for one frame). Rejects with `NSZ_ERR_CLIENT_TIMEOUT` after
   * `retries` resends, with the error of the status when the broker reports a failure,
   * `NSZ_ERR_CLIENT_BAD_REPLY` for an MDP reply of another service or dialect,
   * `NSZ_ERR_CLIENT_CLOSED` on {@link close}, and `signal.reason` on abort.
   */
  async request (payload: Body, options?: RequestOptions): Promise<Buffer[]> {
    const { timeout, retries, signal } = resolveRequestOptions(options, this.#options)
    const body = toFrames(payload)
    if (this.#options.service === undefined && body.length === 0) {
      throw new TypeError('payload must have at least one frame for a plain REQ request')
    }
    const frames = this.#options.service === undefined ? body : [MDPC_FRAME, Buffer.from(this.#options.service), ...body]
    if (this.#closed) throw closedError()
    signal?.throwIfAborted()
    await this.#turn(signal)
    try {
      return this.#decode(await this.#exchange(frames, timeout, retries, signal))
    } finally {
      this.#next()
    }
  }

  /**
   * Closes the socket. The request in progress and the ones waiting their turn reject
   * with `NSZ_ERR_CLIENT_CLOSED`; later calls reject the same way. Safe to call twice.
   */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#dropTimer)
    this.#socket?.close()
    this.#socket = undefined
    for (const waiter of this.#waiters.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort!)
      waiter.reject(closedError())
    }
  }

  #open (): Request {
    // Watched before it connects, so that the first handshake is seen.
    const socket = new Request()
    let established = false
    socket.events.on('handshake', () => { established = true })
    socket.events.on('disconnect', () => {
      if (!established) return
      established = false
      // Only an attempt sent before the drop lost its reply; a later one waits in the socket for the reconnection.
      const waiting = this.#waiting
      if (waiting?.socket !== socket) return
      clearTimeout(this.#dropTimer)
      this.#dropTimer = setTimeout(() => {
        if (socket.closed || this.#waiting !== waiting) return
        // Closing the socket is the only way to stop its pending receive.
        this.#dropped = socket
        socket.close()
      }, GIVE_UP_AFTER_DROP_MS)
    })
    return connectSocket(socket, this.#options)
  }

  /** Resolves when the socket is this caller's; callers are served in order. */
  #turn (signal: AbortSignal | undefined): Promise<void> | undefined {
    if (!this.#busy) {
      this.#busy = true
      return undefined
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
          reject(signal.reason)
        }
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      this.#waiters.push(waiter)
    })
  }

  #next (): void {
    const waiter = this.#waiters.shift()
    if (waiter === undefined) {
      this.#busy = false
      return
    }
    waiter.signal?.removeEventListener('abort', waiter.onAbort!)
    waiter.resolve()
  }

  async #exchange (frames: Buffer[], timeout: number, retries: number, signal: AbortSignal | undefined): Promise<Buffer[]> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw closedError()
      const socket = this.#socket ??= this.#open()
      const reply = await this.#attempt(socket, frames, timeout, signal)
      if (reply !== TIMED_OUT && reply !== DROPPED) return reply
      // A REQ socket that sent and got no reply cannot send again: start afresh.
      socket.close()
      this.#socket = undefined
      if (attempt > retries) throw reply === DROPPED ? connectionLostError(attempt) : timeoutError(attempt, timeout)
      this.#options.onRetry?.({ attempt, retries, timeout })
    }
  }

  async #attempt (socket: Request, frames: Buffer[], timeout: number, signal: AbortSignal | undefined): Promise<Buffer[] | typeof TIMED_OUT | typeof DROPPED> {
    // libzmq takes whole milliseconds, and 0 would mean "do not wait at all".
    socket.sendTimeout = socket.receiveTimeout = Math.ceil(timeout)
    // Closing the socket is the only way to stop a pending receive.
    const onAbort = (): void => socket.close()
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#waiting = { socket }
    try {
      await socket.send(frames)
      return await socket.receive()
    } catch (err) {
      if (this.#socket === socket && socket.closed) this.#socket = undefined
      if (this.#closed) throw closedError()
      if (signal?.aborted === true) throw signal.reason
      if (this.#dropped === socket) return DROPPED
      if ((err as { code?: unknown }).code === 'EAGAIN') return TIMED_OUT
      socket.close()
      this.#socket = undefined
      throw socketError('request', err)
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#waiting = undefined
      if (this.#dropped === socket) this.#dropped = undefined
    }
  }

  #decode (reply: Buffer[]): Buffer[] {
    const service = this.#options.service
    let body = reply
    if (service !== undefined) {
      const dialect = replyDialect(reply)
      if (dialect !== 'mdp') throw badReplyError(`the server answered in the ${dialect} dialect, not MDP/0.1 (${MDPC})`)
      if (reply.length < 2) throw badReplyError(`${MDPC} reply without a service frame`)
      if (reply[1]!.toString() !== service) throw badReplyError(`${MDPC} reply for service '${reply[1]!.toString()}', expected '${service}'`)
      body = reply.slice(2)
    }
    const failure = decodeErrorFrame(body)
    if (failure !== undefined) throw statusError(failure.status, failure.message)
    return body
  }
}
