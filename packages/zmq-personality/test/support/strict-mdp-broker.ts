/**
 * A Majordomo broker that follows ZeroMQ RFC 7 to the letter and checks that its peers
 * do too: a frontend ROUTER for MDP/0.1 clients and a backend ROUTER for MDP/0.1
 * workers, written from the RFC alone, with no code of the project's broker. Every
 * frame a peer sends is checked; each deviation is recorded in `violations` and fails
 * the test that started the broker, as does a failure of its own (`failures`). It never sends the project's ACK, so a worker of
 * the project must speak plain RFC 7 to it.
 */
import { onTestFinished, expect } from 'vitest'
import { Router } from 'zeromq'
import { track } from '@net-server/test-support'

const MDPC = 'MDPC01'
const MDPW = 'MDPW01'
const READY = 0x01
const REQUEST = 0x02
const REPLY = 0x03
const HEARTBEAT = 0x04
const DISCONNECT = 0x05
const EMPTY = Buffer.alloc(0)

/** What the broker knows of a worker that sent READY. */
interface StrictWorker {
  readonly id: Buffer
  readonly service: string
  /** The client address of the request it holds. */
  job: Buffer | undefined
}

/** A READY as the broker received it: the service, and any frames after it (which RFC 7 brokers ignore). */
export interface ReadySeen {
  readonly service: string
  readonly extra: string[]
}

export class StrictMdpBroker {
  readonly frontend = track(new Router({ linger: 0 }))
  readonly backend = track(new Router({ linger: 0 }))
  /** Every deviation from RFC 7 seen, in words. */
  readonly violations: string[] = []
  /** Every READY, in order. */
  readonly readies: ReadySeen[] = []
  /** Every REPLY body, as text, in order. */
  readonly replies: string[][] = []
  /** REPLYs forwarded, by worker routing id (hex). */
  readonly served = new Map<string, number>()
  /** HEARTBEATs received from registered workers. */
  heartbeats = 0
  /** Failures of its own (a receive loop or a send that failed): they fail the test too. */
  readonly failures: string[] = []
  frontendEndpoint = ''
  backendEndpoint = ''
  readonly #workers = new Map<string, StrictWorker>()
  readonly #queues = new Map<string, Array<{ client: Buffer, body: Buffer[] }>>()
  readonly #idle = new Map<string, StrictWorker[]>()
  readonly #heartbeat: NodeJS.Timeout
  #waiters: Array<() => void> = []
  // One pending send per socket: sends are chained.
  #toClients: Promise<unknown> = Promise.resolve()
  #toWorkers: Promise<unknown> = Promise.resolve()

  private constructor (heartbeatInterval: number) {
    this.#heartbeat = setInterval(() => {
      for (const worker of this.#workers.values()) this.#sendWorker([worker.id, EMPTY, Buffer.from(MDPW), Buffer.from([HEARTBEAT])])
    }, heartbeatInterval)
  }

  /** Binds both sockets on loopback; the broker is closed, and its violations asserted empty, when the test ends. */
  static async start (heartbeatInterval = 100): Promise<StrictMdpBroker> {
    const broker = new StrictMdpBroker(heartbeatInterval)
    onTestFinished(() => {
      broker.close()
      expect(broker.violations, 'deviations from RFC 7').toEqual([])
      expect(broker.failures, 'failures of the strict broker itself').toEqual([])
    })
    await broker.frontend.bind('tcp://127.0.0.1:*')
    await broker.backend.bind('tcp://127.0.0.1:*')
    broker.frontendEndpoint = broker.frontend.lastEndpoint!
    broker.backendEndpoint = broker.backend.lastEndpoint!
    broker.#loop(broker.frontend, (msg) => { broker.#onClient(msg) })
    broker.#loop(broker.backend, (msg) => { broker.#onWorker(msg) })
    return broker
  }

  /** Workers registered now. */
  get workers (): number {
    return this.#workers.size
  }

  /** Resolves once `condition` holds, checked after each message; rejects after `timeout` ms. */
  async until (condition: () => boolean, what: string, timeout = 10_000): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for ${what}; violations: ${JSON.stringify(this.violations)}; failures: ${JSON.stringify(this.failures)}`))
      }, timeout)
      const check = (): void => {
        if (!condition()) {
          this.#waiters.push(check)
          return
        }
        clearTimeout(timer)
        resolve()
      }
      this.#waiters.push(check)
    })
  }

  close (): void {
    clearInterval(this.#heartbeat)
    this.frontend.close()
    this.backend.close()
  }

  #loop (socket: Router, handle: (msg: Buffer[]) => void): void {
    (async () => {
      // The loop ends without error once the socket is closed.
      for await (const msg of socket) {
        handle(msg)
        const waiters = this.#waiters
        this.#waiters = []
        for (const check of waiters) check()
      }
    })().catch((err: unknown) => { this.failures.push(`receive loop: ${(err as Error).message}`) })
  }

  /** Keeps a failed send for the end of the test; one after `close()` is no failure. */
  #sendFailed (to: string, err: unknown): void {
    if (!this.frontend.closed && !this.backend.closed) this.failures.push(`send to ${to}: ${(err as Error).message}`)
  }

  #violation (peer: string, what: string, msg: readonly Buffer[]): void {
    this.violations.push(`${peer}: ${what}: ${JSON.stringify(msg.map((f) => f.toString('latin1')))}`)
  }

  // RFC 7, "Client protocol": '' | MDPC01 | service | body...
  #onClient ([client, ...msg]: Buffer[]): void {
    if (msg.length < 3) return this.#violation('client', 'a request has at least 3 frames', msg)
    if (msg[0]!.length !== 0) return this.#violation('client', 'frame 0 must be empty', msg)
    if (msg[1]!.toString() !== MDPC) return this.#violation('client', `frame 1 must be ${MDPC}`, msg)
    if (!/^[\x20-\x7e]+$/.test(msg[2]!.toString('latin1'))) return this.#violation('client', 'frame 2 must be a printable service name', msg)
    const service = msg[2]!.toString()
    const queue = this.#queues.get(service) ?? []
    this.#queues.set(service, queue)
    queue.push({ client: client!, body: msg.slice(3) })
    this.#dispatch(service)
  }

  // RFC 7, "Worker protocol": '' | MDPW01 | command | ...
  #onWorker ([id, ...msg]: Buffer[]): void {
    const key = id!.toString('hex')
    if (msg.length < 3 || msg[0]!.length !== 0 || msg[1]!.toString() !== MDPW || msg[2]!.length !== 1) {
      return this.#violation('worker', `a message is '' | ${MDPW} | one-byte command | ...`, msg)
    }
    const worker = this.#workers.get(key)
    const command = msg[2]![0]
    switch (command) {
      case READY: {
        if (worker !== undefined) return this.#violation('worker', 'a second READY', msg)
        if (msg.length < 4 || !/^[\x20-\x7e]+$/.test(msg[3]!.toString('latin1'))) return this.#violation('worker', 'READY needs a printable service name', msg)
        // Frames after the service are not RFC 7's: a broker that does not know them ignores them.
        this.readies.push({ service: msg[3]!.toString(), extra: msg.slice(4).map((f) => f.toString()) })
        const registered: StrictWorker = { id: id!, service: msg[3]!.toString(), job: undefined }
        this.#workers.set(key, registered)
        this.#free(registered)
        return
      }
      case REPLY: {
        if (worker === undefined) return this.#violation('worker', 'REPLY before READY', msg)
        if (msg.length < 5) return this.#violation('worker', 'REPLY needs client address and empty frames', msg)
        if (worker.job === undefined || !msg[3]!.equals(worker.job)) return this.#violation('worker', 'REPLY for a request the worker does not hold', msg)
        if (msg[4]!.length !== 0) return this.#violation('worker', 'REPLY frame 5 must be empty', msg)
        const body = msg.slice(5)
        this.replies.push(body.map((f) => f.toString()))
        this.served.set(key, (this.served.get(key) ?? 0) + 1)
        this.#sendClient([worker.job, EMPTY, Buffer.from(MDPC), Buffer.from(worker.service), ...body])
        worker.job = undefined
        this.#free(worker)
        return
      }
      case HEARTBEAT:
      case DISCONNECT:
        if (msg.length !== 3) return this.#violation('worker', `${command === HEARTBEAT ? 'HEARTBEAT' : 'DISCONNECT'} has exactly 3 frames`, msg)
        if (command === DISCONNECT) this.#forget(key)
        else if (worker === undefined) this.#violation('worker', 'HEARTBEAT before READY', msg)
        else this.heartbeats++
        return
      default:
        this.#violation('worker', `command 0x${command!.toString(16).padStart(2, '0')} is not one a worker sends`, msg)
    }
  }

  #free (worker: StrictWorker): void {
    const idle = this.#idle.get(worker.service) ?? []
    this.#idle.set(worker.service, idle)
    idle.push(worker)
    this.#dispatch(worker.service)
  }

  #forget (key: string): void {
    const worker = this.#workers.get(key)
    if (worker === undefined) return
    this.#workers.delete(key)
    const idle = this.#idle.get(worker.service) ?? []
    const at = idle.indexOf(worker)
    if (at !== -1) idle.splice(at, 1)
  }

  #dispatch (service: string): void {
    const queue = this.#queues.get(service) ?? []
    const idle = this.#idle.get(service) ?? []
    while (queue.length > 0 && idle.length > 0) {
      const { client, body } = queue.shift()!
      const worker = idle.shift()!
      worker.job = client
      // REQUEST: '' | MDPW01 | 0x02 | client address | '' | body...
      this.#sendWorker([worker.id, EMPTY, Buffer.from(MDPW), Buffer.from([REQUEST]), client, EMPTY, ...body])
    }
  }

  #sendClient (msg: Buffer[]): void {
    this.#toClients = this.#toClients.then(() => this.frontend.send(msg)).catch((err: unknown) => { this.#sendFailed('a client', err) })
  }

  #sendWorker (msg: Buffer[]): void {
    this.#toWorkers = this.#toWorkers.then(() => this.backend.send(msg)).catch((err: unknown) => { this.#sendFailed('a worker', err) })
  }
}
