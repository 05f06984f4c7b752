/**
 * The frontend's way out, with a byte budget per client. libzmq's high-water mark
 * counts messages, not bytes, so the frontend ROUTER keeps a small one; a reply that
 * finds its client's pipe full (`EAGAIN`) waits here, counted against the client's
 * budget (`maxClientBuffer`), and is tried again shortly, in order. Past the budget,
 * replies to that client are dropped. A client that has gone (`EHOSTUNREACH`) loses
 * what was held for it at once, so memory comes back when such clients go.
 * @internal
 */
import { Deque } from './deque.js'
import type { SendError, SendQueue } from './send-queue.js'
import type { UndeliveredReason } from './types.js'

/** What the outbox tells its broker. */
export interface OutboxHost {
  /** A reply to `client` was dropped. */
  undelivered (reason: UndeliveredReason, client: Buffer, detail: string): void
  /** A send to `client` failed because it has gone: whatever else waits for it can go. */
  clientGone (client: Buffer, clientKey: string, code: string): void
}

/** The frontend ROUTER's send high-water mark, in messages per client. */
export const FRONTEND_SEND_HWM = 100

/** How often held replies are tried again, in milliseconds, while any are held. */
const RETRY_MS = 10

/** Counted on top of each frame's bytes: the broker's own cost of holding a message. */
const FRAME_OVERHEAD = 32

/** Replies held for one client, oldest first. */
interface Held {
  readonly client: Buffer
  readonly key: string
  readonly msgs: Deque<readonly Buffer[]>
  bytes: number
  retrying: boolean
}

function sizeOf (msg: readonly Buffer[]): number {
  let size = 0
  for (let i = 0; i < msg.length; i++) size += msg[i]!.length + FRAME_OVERHEAD
  return size
}

/** Replies to clients (frame 0 the client's routing id), through the frontend's {@link SendQueue}. */
export class ClientOutbox {
  readonly #queue: SendQueue
  readonly #budget: number
  readonly #host: OutboxHost
  readonly #held = new Map<string, Held>()
  #bytes = 0
  #timer: NodeJS.Timeout | undefined

  /**
   * @param queue - the frontend's send queue; its failures must go to {@link ClientOutbox.sendFailed}
   * @param budget - bytes that may be held per client (`maxClientBuffer`)
   */
  constructor (queue: SendQueue, budget: number, host: OutboxHost) {
    this.#queue = queue
    this.#budget = budget
    this.#host = host
  }

  /** Bytes held over all clients. */
  get heldBytes (): number {
    return this.#bytes
  }

  /** Clients that have replies held. */
  get slowClients (): number {
    return this.#held.size
  }

  /** Sends a reply; behind the ones held for its client, if any, to keep their order. */
  send (msg: readonly Buffer[]): void {
    if (this.#held.size > 0) {
      const held = this.#held.get(msg[0]!.toString('latin1'))
      if (held !== undefined) {
        this.#hold(held, msg)
        return
      }
    }
    this.#queue.send(msg)
  }

  /** The frontend send queue's failure handler. */
  readonly sendFailed = (msg: readonly Buffer[], err: SendError): void => {
    const client = msg[0]!
    const key = client.toString('latin1')
    if (err.code === 'EAGAIN') {
      this.#hold(this.#held.get(key) ?? this.#newHeld(client, key), msg)
      return
    }
    this.#host.undelivered(err.code === 'EHOSTUNREACH' ? 'unreachable' : 'closed', client, `reply not delivered: ${err.code ?? err.message}`)
    this.#gone(key, client, err)
  }

  /** Drops everything held (the broker closes); each reply counts as undelivered. */
  close (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    for (const held of [...this.#held.values()]) this.#dropHeld(held, 'closed', 'the broker closed')
  }

  #newHeld (client: Buffer, key: string): Held {
    const held: Held = { client, key, msgs: new Deque(), bytes: 0, retrying: false }
    this.#held.set(key, held)
    this.#timer ??= setInterval(this.#retryAll, RETRY_MS)
    return held
  }

  #hold (held: Held, msg: readonly Buffer[]): void {
    const size = sizeOf(msg)
    if (held.bytes + size > this.#budget) {
      this.#host.undelivered('overBudget', held.client, `reply dropped: the client does not read, ${held.bytes} bytes held for it already`)
      if (held.msgs.length === 0) this.#forget(held)
      return
    }
    held.msgs.push(msg)
    held.bytes += size
    this.#bytes += size
  }

  #gone (key: string, client: Buffer, err: SendError): void {
    const held = this.#held.get(key)
    if (held !== undefined) this.#dropHeld(held, 'unreachable', 'the client has gone')
    this.#host.clientGone(client, key, err.code ?? 'UNKNOWN')
  }

  #dropHeld (held: Held, reason: UndeliveredReason, why: string): void {
    for (let msg = held.msgs.shift(); msg !== undefined; msg = held.msgs.shift()) {
      this.#host.undelivered(reason, held.client, `held reply dropped: ${why}`)
    }
    this.#bytes -= held.bytes
    held.bytes = 0
    this.#forget(held)
  }

  #forget (held: Held): void {
    if (this.#held.get(held.key) === held) this.#held.delete(held.key)
    if (this.#held.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  readonly #retryAll = (): void => {
    for (const held of this.#held.values()) if (!held.retrying) this.#retry(held).catch(() => {})
  }

  /** Tries a client's held replies in order, until its pipe is full again or they are all sent. */
  async #retry (held: Held): Promise<void> {
    held.retrying = true
    for (let msg = held.msgs.peek(); msg !== undefined; msg = held.msgs.peek()) {
      const err = await this.#queue.trySend(msg)
      if (held.msgs.peek() !== msg) break
      if (err === undefined) {
        held.msgs.shift()
        const size = sizeOf(msg)
        held.bytes -= size
        this.#bytes -= size
        continue
      }
      if (err.code === 'EAGAIN') break
      this.#host.undelivered(err.code === 'EHOSTUNREACH' ? 'unreachable' : 'closed', held.client, `reply not delivered: ${err.code ?? err.message}`)
      held.msgs.shift()
      held.bytes -= sizeOf(msg)
      this.#bytes -= sizeOf(msg)
      this.#gone(held.key, held.client, err)
      break
    }
    held.retrying = false
    if (held.msgs.length === 0) this.#forget(held)
  }
}
