import type { Router, Dealer } from 'zeromq'

/** A zeromq.js send error: `code` is `EAGAIN` (the peer's pipe is full), `EHOSTUNREACH` (the peer has gone) … */
export type SendError = Error & { code?: string }

/** Called with a message that could not be sent and the error. */
export type SendFailure = (msg: readonly Buffer[], err: SendError) => void

/**
 * One serialized send queue per socket: zeromq.js allows a single pending `send()`, so
 * messages wait here in order while one is in flight. With `sendTimeout: 0` each send
 * settles at once, so the queue only ever holds what arrived during one microtask.
 * @internal
 */
export class SendQueue {
  readonly #socket: Router | Dealer
  readonly #onFailure: SendFailure
  #pending: (readonly Buffer[])[] = []
  #flushing = false
  #idle: (() => void)[] = []
  /** Messages sent with {@link SendQueue.trySend}: their outcome goes to their caller. */
  readonly #probes = new Map<readonly Buffer[], (err: SendError | undefined) => void>()

  constructor (socket: Router | Dealer, onFailure: SendFailure) {
    this.#socket = socket
    this.#onFailure = onFailure
  }

  /** Queues a message; failures go to the `onFailure` callback, never to the caller. */
  send (msg: readonly Buffer[]): void {
    this.#pending.push(msg)
    if (!this.#flushing) this.#flush()
  }

  /**
   * Queues a message like {@link SendQueue.send}, and resolves once it has been tried:
   * with `undefined` when libzmq took it, with the error otherwise (which then does not
   * go to `onFailure`). For retries, whose caller decides what a failure means.
   */
  trySend (msg: readonly Buffer[]): Promise<SendError | undefined> {
    return new Promise((resolve) => {
      this.#probes.set(msg, resolve)
      this.send(msg)
    })
  }

  /** Resolves once every queued message has been handed to libzmq (or failed). */
  flushed (): Promise<void> {
    if (!this.#flushing) return Promise.resolve()
    return new Promise((resolve) => { this.#idle.push(resolve) })
  }

  /**
   * Reports a failed message. The handler emits events whose listeners are user
   * code: a throw there must neither stop this queue nor vanish, so it is rethrown
   * on its own turn, where it reaches the process like any uncaught listener error.
   */
  #fail (msg: readonly Buffer[], err: SendError): void {
    if (this.#probes.size > 0 && this.#settle(msg, err)) return
    try {
      this.#onFailure(msg, err)
    } catch (thrown) {
      setImmediate(() => { throw thrown })
    }
  }

  /** Hands the outcome of a {@link SendQueue.trySend} message to its caller; false for any other message. */
  #settle (msg: readonly Buffer[], err: SendError | undefined): boolean {
    const resolve = this.#probes.get(msg)
    if (resolve === undefined) return false
    this.#probes.delete(msg)
    resolve(err)
    return true
  }

  async #flush (): Promise<void> {
    this.#flushing = true
    // Swap the batch out so that messages queued during a send start the next batch.
    while (this.#pending.length > 0) {
      const batch = this.#pending
      this.#pending = []
      for (const msg of batch) {
        if (this.#socket.closed) {
          this.#fail(msg, Object.assign(new Error('socket closed'), { code: 'ENOTSOCK' }))
          continue
        }
        try {
          await this.#socket.send(msg as Buffer[])
          if (this.#probes.size > 0) this.#settle(msg, undefined)
        } catch (err) {
          this.#fail(msg, err as SendError)
        }
      }
    }
    this.#flushing = false
    const idle = this.#idle
    this.#idle = []
    for (const resolve of idle) resolve()
  }
}
