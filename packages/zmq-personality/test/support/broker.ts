import { expect, onTestFinished } from 'vitest'
import { Dealer, Request } from 'zeromq'
import {
  Command, MDPW, decodeNszReply, encodeNszRequest, encodeReady, encodeReply, isDecodeError,
  type Body, type NszReply, type WorkerExtension
} from '@net-server/client'
import { b, failOnRejection, nextEvent, text, track, within } from '@net-server/test-support'
import { Broker, WorkerAgent, type BrokerOptions, type JobHandler, type SocketFactory, type WorkerAgentOptions } from '@net-server/zmq'
import { portOf } from '../../src/endpoints.js'

/** Short heartbeats so that expiry tests stay fast. */
export const FAST = { heartbeatInterval: 100, heartbeatLiveness: 3 } as const

/** A bound broker, closed when the test ends. */
export async function startBroker (options: BrokerOptions = {}, sockets?: SocketFactory): Promise<{ broker: Broker, frontend: string, backend: string }> {
  const broker = new Broker({ ...FAST, ...options }, sockets)
  onTestFinished(() => broker.close())
  const { frontend, backend } = await broker.bind()
  return { broker, frontend, backend }
}

/** A worker agent serving `handler`, registered with `broker` before this resolves; closed when the test ends. */
export async function startAgent (broker: Broker, backend: string, handler: JobHandler, options: Partial<WorkerAgentOptions> = {}): Promise<WorkerAgent> {
  const agent = new WorkerAgent({ ...FAST, reconnectInterval: 20, ...options, endpoint: backend })
  onTestFinished(() => agent.close({ graceful: false }))
  const joined = nextEvent(broker, 'workerReady', 5000, () => true)
  failOnRejection(agent.serve(handler), 'the worker agent')
  await joined
  return agent
}

/**
 * A broker whose only worker is a raw one that has just received a job (body `x`)
 * from a project client: the test drives what the worker does next.
 */
export async function rawWorkerWithJob (options: BrokerOptions = {}): Promise<{
  broker: Broker, raw: RawWorker, client: NszClient, reply: Promise<NszReply>, request: Buffer[]
}> {
  const { broker, frontend, backend } = await startBroker(options)
  const raw = new RawWorker(backend)
  await raw.join(broker)
  const client = new NszClient(frontend)
  const reply = client.call('default', 'x')
  const request = await raw.expect(Command.REQUEST)
  return { broker, raw, client, reply, request }
}

/** A REQ client connected to `endpoint`. */
export function reqClient (endpoint: string, routingId?: string): Request {
  const socket = track(new Request({ receiveTimeout: 5000, linger: 0, ...(routingId === undefined ? {} : { routingId }) }))
  socket.connect(endpoint)
  return socket
}

/** A DEALER connected to `endpoint`, for clients of the MDP and project dialects and for raw workers. */
export function dealer (endpoint: string, routingId?: string): Dealer {
  const socket = track(new Dealer({ receiveTimeout: 5000, linger: 0, ...(routingId === undefined ? {} : { routingId }) }))
  socket.connect(endpoint)
  return socket
}

/** `endpoint` (a loopback TCP one) for a socket whose connection leaves from 127.0.0.2: a peer at another address. */
export function from127002 (endpoint: string): string {
  return `tcp://127.0.0.2:0;127.0.0.1:${portOf(endpoint)}`
}

/** One request/reply round trip on a REQ socket. */
export async function reqCall (socket: Request, body: Body): Promise<string[]> {
  await socket.send(body as Buffer[])
  return text(await socket.receive())
}

/**
 * `clients` polite REQ clients, each sending `requests` requests one after the other
 * (`polite <client> <request>`) and checking each reply against `expected` of its body;
 * resolves with the latency of every request, in ms, within 20 s.
 */
export async function politeClients (endpoint: string, clients: number, requests: number, expected: (body: string) => string[]): Promise<number[]> {
  const latencies: number[] = []
  await within(Promise.all(Array.from({ length: clients }, async (_, c) => {
    const socket = reqClient(endpoint)
    for (let r = 0; r < requests; r++) {
      const started = performance.now()
      const body = `polite ${c} ${r}`
      expect(await reqCall(socket, body)).toEqual(expected(body))
      latencies.push(performance.now() - started)
    }
  })), 20_000, `the polite clients' ${clients * requests} replies`)
  return latencies
}

/**
 * A pipelining client of the project's dialect on a DEALER. A reply that does not
 * decode fails every call waiting and every later one, with what was wrong.
 */
export class NszClient {
  readonly socket: Dealer
  readonly #pending = new Map<string, { resolve: (reply: NszReply) => void, reject: (err: Error) => void }>()
  #next = 0
  #failure: Error | undefined
  // One pending send per socket: calls made together are sent one after the other.
  #sending: Promise<void> = Promise.resolve()

  constructor (endpoint: string) {
    this.socket = track(new Dealer({ linger: 0 }))
    this.socket.connect(endpoint)
    this.#read().catch((err: unknown) => { this.#fail(err) })
  }

  /** Sends a request and resolves with its reply. */
  async call (service: string, body: Body): Promise<NszReply> {
    if (this.#failure !== undefined) throw this.#failure
    const id = String(++this.#next)
    const reply = new Promise<NszReply>((resolve, reject) => this.#pending.set(id, { resolve, reject }))
    const msg = encodeNszRequest(service, b(id), body)
    this.#sending = this.#sending.then(() => this.socket.send(msg))
    await this.#sending
    return within(reply, 10_000, `reply to request ${id}`)
  }

  async #read (): Promise<void> {
    // The loop ends without error once the socket is closed.
    for await (const msg of this.socket) {
      const reply = decodeNszReply(msg)
      if (isDecodeError(reply)) throw new Error(`a reply that does not decode: ${reply.error}`)
      const id = reply.requestId.toString()
      const waiting = this.#pending.get(id)
      this.#pending.delete(id)
      waiting?.resolve(reply)
    }
  }

  #fail (err: unknown): void {
    this.#failure = err instanceof Error ? err : new Error(String(err))
    for (const { reject } of this.#pending.values()) reject(this.#failure)
    this.#pending.clear()
  }
}

/** A hand-driven MDP/0.1 worker on a raw DEALER, for tests of the broker's backend rules. */
export class RawWorker {
  readonly socket: Dealer

  /** @param routingId - the DEALER's routing id; libzmq picks one by default */
  constructor (endpoint: string, routingId?: string) {
    this.socket = dealer(endpoint, routingId)
  }

  async ready (service = 'default', extension?: WorkerExtension): Promise<void> {
    await this.socket.send(encodeReady(service, extension))
  }

  /** Sends READY and resolves once `broker` has the worker in its table. */
  async join (broker: Broker, service = 'default', extension?: WorkerExtension): Promise<void> {
    const joined = nextEvent(broker, 'workerReady')
    await this.ready(service, extension)
    await joined
  }

  async send (frames: Body): Promise<void> {
    await this.socket.send(frames as Buffer[])
  }

  async reply (jobId: Buffer, body: Body, status?: number): Promise<void> {
    await this.socket.send(encodeReply(jobId, body, status))
  }

  /**
   * The next message whose command is `command` (the others skipped), within
   * `timeout` ms; past it, fails naming the command awaited and what arrived instead.
   */
  async expect (command: number, timeout = EXPECT_TIMEOUT): Promise<Buffer[]> {
    const deadline = Date.now() + timeout
    const skipped: string[] = []
    const before = this.socket.receiveTimeout
    try {
      for (;;) {
        // A timeout on the socket, not a race: zeromq.js allows one pending receive.
        this.socket.receiveTimeout = Math.max(1, deadline - Date.now())
        let msg: Buffer[]
        try {
          msg = await this.socket.receive()
        } catch (err) {
          if ((err as { code?: string }).code !== 'EAGAIN') throw err
          throw new Error(`no ${commandName(command)} within ${timeout} ms; ${arrivals(skipped)}`)
        }
        if (msg[1]?.toString() !== MDPW) throw new Error(`not an MDP worker message: ${text(msg).join('|')}`)
        if (msg[2]![0] === command) return msg
        skipped.push(commandName(msg[2]![0]))
      }
    } finally {
      this.socket.receiveTimeout = before
    }
  }
}

/** How long {@link RawWorker.expect} waits by default: far more than any broker step takes. */
export const EXPECT_TIMEOUT = 3000

const COMMAND_NAMES = new Map<number, string>(Object.entries(Command).map(([name, code]) => [code, name]))

/** A worker command's name (`REQUEST`), or its code when it is none of them. */
function commandName (code: number | undefined): string {
  return COMMAND_NAMES.get(code ?? -1) ?? `command 0x${(code ?? 0).toString(16)}`
}

/** What arrived instead, counted by command: `arrived instead: 12 HEARTBEAT, 1 ACK`. */
function arrivals (skipped: readonly string[]): string {
  if (skipped.length === 0) return 'nothing arrived'
  const counts = new Map<string, number>()
  for (const name of skipped) counts.set(name, (counts.get(name) ?? 0) + 1)
  return `arrived instead: ${[...counts].map(([name, n]) => `${n} ${name}`).join(', ')}`
}
