/**
 * A ZAP handler (ZeroMQ RFC 27): libzmq asks it whether to admit each new connection
 * to a socket of the same zeromq context, before any message of that peer is
 * delivered. The broker starts one before it binds its sockets.
 */

import { EventEmitter } from 'eventemitter3'
import { context as defaultContext, Router, type Context } from 'zeromq'
import type { LogLevel } from '@net-server/core'
import { zapBindError, zapStateError } from '../errors.js'
import { z85Encode } from './z85.js'

/** The endpoint that libzmq sends ZAP requests to, in each context. */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01'

/** The security mechanism of the connection being authenticated. */
export type ZapMechanism = 'NULL' | 'PLAIN' | 'CURVE'

/** One ZAP request: who connects, to which domain, with which credentials. */
export interface ZapRequest {
  /** The `zapDomain` of the socket that accepted the connection (the broker's: `frontend` or `backend`). */
  readonly domain: string
  /**
   * The peer's IP address (`127.0.0.1`, `::1`); for `ipc://` on Linux the peer
   * process's credentials, `<host>:<uid>:<gid>:<pid>` (see `ipcPeer`), else empty;
   * empty for `inproc://`.
   */
  readonly address: string
  /**
   * The identity frame libzmq puts in the request: the handling socket's own
   * `ZMQ_ROUTING_ID` (empty unless set), not the peer's; it tells nothing of the peer.
   */
  readonly identity: string
  /** The mechanism that the peer and the socket agreed on. */
  readonly mechanism: ZapMechanism
  /** The peer's public key in Z85 text (CURVE only). */
  readonly publicKey?: string
  /** The user name (PLAIN only). */
  readonly username?: string
  /** The password (PLAIN only). */
  readonly password?: string
}

/**
 * Decides a {@link ZapRequest}: true admits the peer, false refuses it. A callback
 * that throws, rejects, returns something else or takes longer than the handler's
 * `timeout` refuses the peer with status 500.
 */
export type ZapAuthorize = (request: ZapRequest) => boolean | Promise<boolean>

/** RFC 27 status codes that the handler answers with: 200 admitted, 400 refused, 500 failure. */
export type ZapStatus = 200 | 400 | 500

/** The answer to one request. */
export interface ZapDecision {
  /** Whether the peer is admitted (status 200). */
  readonly allowed: boolean
  /** The RFC 27 status code. */
  readonly status: ZapStatus
  /** The status text sent to libzmq. */
  readonly text: string
}

/** Events of a {@link ZapHandler}, for tests, metrics and audit logs. */
export interface ZapHandlerEvents {
  /** A request was decided; emitted when the answer is sent. */
  decision: [request: ZapRequest, decision: ZapDecision]
  /** A request that does not follow RFC 27 was answered with 400. */
  malformed: [reason: string]
}

/** Where the handler reports failures: the signature of core's `Logger.write`. */
export type ZapLog = (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => void

/** Options of a {@link ZapHandler}. */
export interface ZapHandlerOptions {
  /** The decision; {@link createZapPolicy} builds one from allow-lists and an address rule. */
  readonly authorize: ZapAuthorize
  /** How long `authorize` may take, in ms, before the peer is refused with 500 (default 5000). */
  readonly timeout?: number
  /** The zeromq context of the sockets to guard (default: zeromq.js's shared `context`). */
  readonly context?: Context
  /** Receives failures (level 0), refusals (level 2) and admissions (level 4). Default: failures as process warnings. */
  readonly log?: ZapLog
}

/** Defaults of {@link ZapHandlerOptions}. */
export const zapHandlerDefaults = {
  timeout: 5000
} as const

const VERSION = '1.0'
const MECHANISMS: ReadonlySet<string> = new Set<ZapMechanism>(['NULL', 'PLAIN', 'CURVE'])
const CREDENTIALS: Readonly<Record<ZapMechanism, number>> = { NULL: 0, PLAIN: 2, CURVE: 1 }

function warn (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void {
  if (level <= 1) process.emitWarning(fields === undefined ? message : `${message} ${JSON.stringify(fields)}`, 'ZapWarning')
}

function checkOptions (options: ZapHandlerOptions): Required<Omit<ZapHandlerOptions, 'context'>> & { context: Context } {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  if (typeof options.authorize !== 'function') throw new TypeError('options.authorize must be a function')
  const timeout = options.timeout ?? zapHandlerDefaults.timeout
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > 2_147_483_647) {
    throw new RangeError('options.timeout must be a number of milliseconds > 0 and at most 2147483647')
  }
  if (options.log !== undefined && typeof options.log !== 'function') throw new TypeError('options.log must be a function')
  return { authorize: options.authorize, timeout, context: options.context ?? defaultContext, log: options.log ?? warn }
}

/**
 * Returns the socket options that make libzmq consult the ZAP handler for `domain`.
 * For CURVE and PLAIN sockets libzmq asks the handler anyway (with an empty domain
 * when none is set); for NULL sockets, plain TCP, it asks ONLY when `zapDomain` is
 * set, so a socket without one admits every peer whatever the address rules say.
 * Set it on both broker sockets, before `bind()`.
 *
 * @example
 * const backend = new Router({ ...zapSocketOptions('backend'), mandatory: true, sendTimeout: 0 })
 */
export function zapSocketOptions (domain: string, name = 'options.zapDomain'): { readonly zapDomain: string } {
  if (typeof domain !== 'string' || domain === '') throw new TypeError(`${name} must be a non-empty string`)
  if (Buffer.byteLength(domain) > 255) throw new RangeError(`${name} must be at most 255 bytes long`)
  return { zapDomain: domain }
}

/**
 * The ZAP handler: one ROUTER bound on {@link ZAP_ENDPOINT} in the guarded sockets'
 * context, one receive loop, and the answers sent one at a time in the order the
 * requests came. Decisions run concurrently, each bounded by `timeout`, so a slow or
 * failing `authorize` delays answers by at most `timeout` and never stops the handler.
 * Nothing polls: an idle handler waits on its socket.
 *
 * Call {@link start} before the guarded sockets bind (a connection accepted while no
 * handler is bound is admitted without a question) and {@link close} after they close.
 *
 * @example
 * const zap = new ZapHandler({ authorize: createZapPolicy({ clientKeys: [publicKey] }) })
 * await zap.start()
 * const frontend = new Router({ ...curveServerSocketOptions({ secretKey }), ...zapSocketOptions('frontend') })
 * await frontend.bind('tcp://127.0.0.1:6660')
 */
export class ZapHandler extends EventEmitter<ZapHandlerEvents> {
  readonly #authorize: ZapAuthorize
  readonly #timeout: number
  readonly #context: Context
  readonly #log: ZapLog
  readonly #timers = new Set<NodeJS.Timeout>()
  #state: 'new' | 'starting' | 'started' | 'closed' = 'new'
  #socket: Router | undefined
  #loop: Promise<void> = Promise.resolve()
  #sending: Promise<void> = Promise.resolve()

  constructor (options: ZapHandlerOptions) {
    super()
    const resolved = checkOptions(options)
    this.#authorize = resolved.authorize
    this.#timeout = resolved.timeout
    this.#context = resolved.context
    this.#log = resolved.log
  }

  /** Whether the handler is bound and answering. */
  get running (): boolean {
    return this.#state === 'started'
  }

  /**
   * Binds the handler socket and starts answering. Rejects with `NSZ_ERR_ZAP_BIND`
   * when another handler already serves the context, `NSZ_ERR_ZAP_STATE` when this
   * one was started or closed before.
   */
  async start (): Promise<void> {
    if (this.#state !== 'new') throw zapStateError(this.#state === 'closed' ? 'closed' : 'started')
    this.#state = 'starting'
    const socket = new Router({ context: this.#context, linger: 0 })
    try {
      await socket.bind(ZAP_ENDPOINT)
    } catch (err) {
      socket.close()
      this.#state = 'new'
      throw zapBindError(ZAP_ENDPOINT, err)
    }
    if (this.#state !== 'starting') {
      // close() was called while binding.
      socket.close()
      return
    }
    this.#socket = socket
    this.#state = 'started'
    this.#loop = this.#receiveLoop(socket)
  }

  /**
   * Closes the handler socket; pending decisions are dropped (libzmq fails those
   * handshakes). Resolves when the receive loop has ended. Idempotent. libzmq releases
   * the endpoint in the background, so a new handler in the same context may meet
   * `NSZ_ERR_ZAP_BIND` for a moment; a handler is meant to live as long as its context's
   * sockets.
   */
  async close (): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#socket?.close()
    await this.#loop
  }

  async #receiveLoop (socket: Router): Promise<void> {
    try {
      for await (const frames of socket) this.#handle(socket, frames)
    } catch (err) {
      if (this.#state !== 'closed') this.#log(0, 'the ZAP handler stopped receiving', { error: String(err) })
    }
  }

  #handle (socket: Router, frames: Buffer[]): void {
    const [routingId, delimiter, ...body] = frames
    // Without the empty delimiter the peer is no REQ-style requester and cannot read an answer.
    if (routingId === undefined || delimiter === undefined || delimiter.length !== 0) {
      this.emit('malformed', 'no empty delimiter frame')
      this.#log(1, 'ZAP request without a delimiter ignored')
      return
    }
    const answer = this.#answer(body)
    this.#sending = this.#sending
      .then(async () => {
        const [reply, emit] = await answer
        if (this.#state !== 'started') return
        await socket.send([routingId, '', ...reply])
        emit()
      })
      .catch((err: unknown) => {
        if (this.#state === 'started') this.#log(0, 'the ZAP handler could not send an answer', { error: String(err) })
      })
  }

  /** The answer frames to one request, and the event to emit once they are sent. */
  async #answer (body: Buffer[]): Promise<[frames: string[], emit: () => void]> {
    const [version, requestId, domain, address, identity, mechanism, ...credentials] = body
    const id = requestId?.toString() ?? ''
    const malformed = (reason: string): [string[], () => void] => {
      this.#log(1, `malformed ZAP request: ${reason}`)
      return [[VERSION, id, '400', `malformed request: ${reason}`, '', ''], () => this.emit('malformed', reason)]
    }
    if (version?.toString() !== VERSION) return malformed(`version must be ${VERSION}`)
    if (mechanism === undefined) return malformed('too few frames')
    const name = mechanism.toString()
    if (!MECHANISMS.has(name)) return malformed(`unknown mechanism '${name}'`)
    const request = toRequest(name as ZapMechanism, domain!, address!, identity!, credentials)
    if (request === undefined) return malformed(`wrong credentials for ${name}`)
    const decision = await this.#decide(request)
    const userId = decision.allowed ? (request.publicKey ?? request.username ?? '') : ''
    return [[VERSION, id, String(decision.status), decision.text, userId, ''], () => this.emit('decision', request, decision)]
  }

  async #decide (request: ZapRequest): Promise<ZapDecision> {
    const peer = { domain: request.domain, address: request.address, mechanism: request.mechanism, publicKey: request.publicKey }
    let timer: NodeJS.Timeout | undefined
    try {
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no decision within ${this.#timeout} ms`)), this.#timeout)
        this.#timers.add(timer)
      })
      const verdict: unknown = await Promise.race([(async () => await this.#authorize(request))(), timeout])
      if (typeof verdict !== 'boolean') throw new TypeError(`authorize returned ${typeof verdict}, not a boolean`)
      if (verdict) {
        this.#log(4, 'ZAP admitted a peer', peer)
        return { allowed: true, status: 200, text: 'OK' }
      }
      this.#log(2, 'ZAP refused a peer', peer)
      return { allowed: false, status: 400, text: 'access denied' }
    } catch (err) {
      this.#log(0, 'ZAP decision failed, peer refused', { ...peer, error: err instanceof Error ? err.message : String(err) })
      return { allowed: false, status: 500, text: 'authentication failure' }
    } finally {
      if (timer !== undefined) {
        clearTimeout(timer)
        this.#timers.delete(timer)
      }
    }
  }
}

function toRequest (mechanism: ZapMechanism, domain: Buffer, address: Buffer, identity: Buffer, credentials: Buffer[]): ZapRequest | undefined {
  if (credentials.length !== CREDENTIALS[mechanism]) return undefined
  const base = { domain: domain.toString(), address: address.toString(), identity: identity.toString(), mechanism }
  if (mechanism === 'CURVE') {
    const key = credentials[0]!
    return key.length === 32 ? { ...base, publicKey: z85Encode(key) } : undefined
  }
  if (mechanism === 'PLAIN') return { ...base, username: credentials[0]!.toString(), password: credentials[1]!.toString() }
  return base
}
