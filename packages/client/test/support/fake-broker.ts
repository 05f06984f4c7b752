/**
 * A minimal broker for the client tests: one ROUTER that speaks the three frontend
 * dialects with the protocol codec and answers itself, with knobs to drop, hold
 * (delay), duplicate or forge replies. It shares no code with the real broker.
 */
import { EventEmitter } from 'node:events'
import { expect, onTestFinished } from 'vitest'
import { Router } from 'zeromq'
import {
  ClientErrorCode, type ClientErrorCodeValue, type ClientRequest, Status, decodeClientRequest, encodeClientReply, isDecodeError, replyEnvelope, REQ_ENVELOPE
} from '@net-server/client'
import { failOnRejection, type Watched } from '@net-server/test-support'

/** A request the broker received, with the means to answer it. */
export interface Received {
  readonly routingId: Buffer
  readonly request: ClientRequest
  readonly raw: Buffer[]
}

/** What the handler answers: a status and body, or `undefined` to drop the request. */
export type Answer = { status: number, body: Buffer[] } | undefined

const upper = (frames: readonly Buffer[]) => frames.map((f) => Buffer.from(f.toString().toUpperCase()))

export class FakeBroker extends EventEmitter<{ request: [Received] }> {
  readonly socket = new Router({ linger: 0 })
  endpoint = ''
  readonly received: Received[] = []
  /** Requests kept without answer while {@link hold} is on, in arrival order. */
  readonly held: Received[] = []
  /** The most requests ever held at once. */
  maxHeld = 0
  /** Drop this many requests from now on, without answer. */
  dropNext = 0
  /** Keep requests until {@link release}. */
  hold = false
  /** Send every answer twice. */
  duplicate = false
  /** How to answer; upper-cases the body by default. */
  handler: (r: Received) => Answer = (r) => ({ status: Status.OK, body: upper(r.request.body) })
  /** Sends that failed, as they failed: the test fails with them when it ends. */
  readonly sendErrors: Error[] = []
  #tail: Promise<unknown> = Promise.resolve()
  #loop: Watched | undefined

  /** Binds on `endpoint`, a fresh loopback port by default; a failure of its receive loop (a handler that throws) fails the test. */
  static async start (endpoint = 'tcp://127.0.0.1:*'): Promise<FakeBroker> {
    const broker = new FakeBroker()
    await broker.socket.bind(endpoint)
    broker.endpoint = broker.socket.lastEndpoint!
    broker.#loop = failOnRejection(broker.#receive(), 'the fake broker\'s receive loop')
    return broker
  }

  async #receive (): Promise<void> {
    // The loop ends without error once the socket is closed.
    for await (const [routingId, ...msg] of this.socket) {
      const request = decodeClientRequest(msg)
      if (isDecodeError(request)) {
        this.sendRaw(routingId!, encodeClientReply(REQ_ENVELOPE, Status.MALFORMED, [Buffer.from(request.error)]))
        continue
      }
      const r: Received = { routingId: routingId!, request, raw: msg }
      this.received.push(r)
      if (this.dropNext > 0) {
        this.dropNext--
      } else if (this.hold) {
        this.held.push(r)
        this.maxHeld = Math.max(this.maxHeld, this.held.length)
      } else {
        this.answer(r)
      }
      this.emit('request', r)
    }
  }

  /** Answers a request with the handler's answer (or the one given). */
  answer (r: Received, answer: Answer = this.handler(r)): void {
    if (answer === undefined) return
    const frames = [r.routingId, ...encodeClientReply(replyEnvelope(r.request), answer.status, answer.body)]
    this.sendRaw(frames)
    if (this.duplicate) this.sendRaw(frames)
  }

  /** Answers the held requests, the first `n` of them or all. */
  release (n = this.held.length): void {
    for (const r of this.held.splice(0, n)) this.answer(r)
  }

  /** Sends frames as they are (the routing id first), serialized behind earlier sends. */
  sendRaw (routingIdOrFrames: Buffer | Buffer[], frames?: Buffer[]): Promise<unknown> {
    const msg = Array.isArray(routingIdOrFrames) ? routingIdOrFrames : [routingIdOrFrames, ...frames!]
    // A failed send is kept for the end of the test; the queue goes on.
    this.#tail = this.#tail.then(() => this.socket.send(msg)).catch((err: unknown) => {
      if (!this.socket.closed) this.sendErrors.push(err as Error)
    })
    return this.#tail
  }

  /** Resolves once `condition` holds, checked on each request; rejects after `deadline` ms, or with the receive loop's failure. */
  async until (condition: () => boolean, deadline = 10_000): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        const failed = this.#loop?.error
        if (failed !== undefined) {
          clearTimeout(timer)
          this.off('request', check)
          reject(failed)
          return
        }
        if (!condition()) return
        clearTimeout(timer)
        this.off('request', check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.off('request', check)
        reject(this.#loop?.error ?? new Error(`condition not met within ${deadline} ms (received ${this.received.length})`))
      }, deadline)
      this.on('request', check)
    })
  }

  close (): void {
    this.socket.close()
  }
}

/** A fake broker on `endpoint` (a fresh loopback port by default), closed when the test ends. */
export async function startBroker (endpoint?: string): Promise<FakeBroker> {
  const broker = await FakeBroker.start(endpoint)
  onTestFinished(() => {
    broker.close()
    expect(broker.sendErrors.map((e) => e.message), 'sends of the fake broker that failed').toEqual([])
  })
  return broker
}

/** Each failure status of a reply and the error code a client turns it into. */
export const STATUS_ERRORS: Array<[number, ClientErrorCodeValue]> = [
  [Status.MALFORMED, ClientErrorCode.MALFORMED],
  [Status.DENIED, ClientErrorCode.DENIED],
  [Status.NO_SERVICE, ClientErrorCode.UNKNOWN_SERVICE],
  [Status.TOO_LARGE, ClientErrorCode.TOO_LARGE],
  [Status.APP_ERROR, ClientErrorCode.APP_ERROR],
  [Status.WORKER_LOST, ClientErrorCode.WORKER_LOST],
  [Status.UNAVAILABLE, ClientErrorCode.UNAVAILABLE],
  [Status.TIMEOUT, ClientErrorCode.JOB_TIMEOUT]
]
