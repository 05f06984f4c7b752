import { onTestFinished } from 'vitest'
import { Dealer, Request, type Socket } from 'zeromq'
import type { EventEmitter } from 'eventemitter3'
import {
  MDPW, decodeNszReply, encodeNszRequest, encodeReady, encodeReply, isDecodeError,
  type Body, type NszReply, type WorkerExtension
} from '@net-server/client'
import { Broker, WorkerAgent, type BrokerOptions, type JobHandler, type WorkerAgentOptions } from '@net-server/zmq'

/** Short heartbeats so that expiry tests stay fast. */
export const FAST = { heartbeatInterval: 100, heartbeatLiveness: 3 } as const

export const b = (s: string): Buffer => Buffer.from(s)
export const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString('latin1'))

/** Rejects when `promise` has not settled within `ms`. */
export async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** The arguments of the next `event` that satisfies `accept`, within `ms`. */
export function nextEvent<E extends EventEmitter<any>, K extends EventEmitter.EventNames<E extends EventEmitter<infer T> ? T : never>> (
  emitter: E, event: K, ms = 5000, accept: (...args: any[]) => boolean = () => true
): Promise<any[]> {
  let listener: ((...args: any[]) => void) | undefined
  const seen = new Promise<any[]>((resolve) => {
    listener = (...args: any[]) => {
      if (!accept(...args)) return
      emitter.off(event as any, listener)
      resolve(args)
    }
    emitter.on(event as any, listener)
  })
  return within(seen, ms, `event ${String(event)}`).finally(() => emitter.off(event as any, listener))
}

/** A bound broker, closed when the test ends. */
export async function startBroker (options: BrokerOptions = {}): Promise<{ broker: Broker, frontend: string, backend: string }> {
  const broker = new Broker({ ...FAST, ...options })
  onTestFinished(() => broker.close())
  const { frontend, backend } = await broker.bind()
  return { broker, frontend, backend }
}

/** A worker agent serving `handler`, registered with `broker` before this resolves; closed when the test ends. */
export async function startAgent (broker: Broker, backend: string, handler: JobHandler, options: Partial<WorkerAgentOptions> = {}): Promise<WorkerAgent> {
  const agent = new WorkerAgent({ ...FAST, reconnectInterval: 20, ...options, endpoint: backend })
  onTestFinished(() => agent.close({ graceful: false }))
  const joined = nextEvent(broker, 'workerReady', 5000, () => true)
  const serving = agent.serve(handler)
  serving.catch(() => {})
  await joined
  return agent
}

/** Closes `socket` when the test ends. */
export function track<S extends Socket> (socket: S): S {
  onTestFinished(() => { socket.close() })
  return socket
}

/** A REQ client connected to `endpoint`. */
export function reqClient (endpoint: string, routingId?: string): Request {
  const socket = track(new Request({ receiveTimeout: 5000, linger: 0, ...(routingId === undefined ? {} : { routingId }) }))
  socket.connect(endpoint)
  return socket
}

/** A DEALER connected to `endpoint`, for clients of the MDP and project dialects and for raw workers. */
export function dealer (endpoint: string): Dealer {
  const socket = track(new Dealer({ receiveTimeout: 5000, linger: 0 }))
  socket.connect(endpoint)
  return socket
}

/** One request/reply round trip on a REQ socket. */
export async function reqCall (socket: Request, body: Body): Promise<string[]> {
  await socket.send(body as Buffer[])
  return text(await socket.receive())
}

/** A pipelining client of the project's dialect on a DEALER. */
export class NszClient {
  readonly socket: Dealer
  readonly #pending = new Map<string, (reply: NszReply) => void>()
  #next = 0
  // One pending send per socket: calls made together are sent one after the other.
  #sending: Promise<void> = Promise.resolve()

  constructor (endpoint: string) {
    this.socket = track(new Dealer({ linger: 0 }))
    this.socket.connect(endpoint)
    this.#read().catch(() => {})
  }

  /** Sends a request and resolves with its reply. */
  async call (service: string, body: Body): Promise<NszReply> {
    const id = String(++this.#next)
    const reply = new Promise<NszReply>((resolve) => this.#pending.set(id, resolve))
    const msg = encodeNszRequest(service, b(id), body)
    this.#sending = this.#sending.then(() => this.socket.send(msg))
    await this.#sending
    return within(reply, 10_000, `reply to request ${id}`)
  }

  async #read (): Promise<void> {
    for await (const msg of this.socket) {
      const reply = decodeNszReply(msg)
      if (isDecodeError(reply)) throw new Error(reply.error)
      const id = reply.requestId.toString()
      const resolve = this.#pending.get(id)
      this.#pending.delete(id)
      resolve?.(reply)
    }
  }
}

/** A hand-driven MDP/0.1 worker on a raw DEALER, for tests of the broker's backend rules. */
export class RawWorker {
  readonly socket: Dealer

  constructor (endpoint: string) {
    this.socket = dealer(endpoint)
  }

  async ready (service = 'default', extension?: WorkerExtension): Promise<void> {
    await this.socket.send(encodeReady(service, extension))
  }

  async send (frames: Body): Promise<void> {
    await this.socket.send(frames as Buffer[])
  }

  async reply (jobId: Buffer, body: Body, status?: number): Promise<void> {
    await this.socket.send(encodeReply(jobId, body, status))
  }

  /** The next message whose command is `command` (HEARTBEATs skipped unless asked for). */
  async expect (command: number): Promise<Buffer[]> {
    for (;;) {
      const msg = await this.socket.receive()
      if (msg[1]?.toString() !== MDPW) throw new Error(`not an MDP worker message: ${text(msg).join('|')}`)
      if (msg[2]![0] === command) return msg
    }
  }
}
