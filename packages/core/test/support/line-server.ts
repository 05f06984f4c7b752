import { once } from 'node:events'
import net from 'node:net'
import {
  Server, duration, integer, boolean, type OptionSpecs, type Options, type RequestContext, type ResolvedServerOptions,
  type ServerEvents
} from '@net-server/core'
import type { DependencyContainer } from 'tsyringe'

/** Options of the test server: core's plus a few a personality would add. */
export interface ResolvedLineOptions extends ResolvedServerOptions {
  readonly minServers: number
  readonly maxServers: number
  readonly jobTimeout: number
  readonly verbose: boolean
}

/** One TCP connection: the client sends one line and gets one line back. */
export interface LineRequest extends RequestContext {
  readonly socket: net.Socket
  line?: string
}

/**
 * A small real personality for the tests: binds a TCP listener on 127.0.0.1 port 0,
 * takes each connection as one request, reads one line and answers `echo: <line>`.
 */
export class LineServer extends Server<ResolvedLineOptions, LineRequest> {
  /** How many times `bind` ran: option errors must leave it at 0. */
  bindCalls = 0
  #listener: net.Server | undefined
  readonly #pending: net.Socket[] = []
  #waiting: ((socket: net.Socket | undefined) => void) | undefined
  #stopped = false

  constructor (options: Options<ResolvedLineOptions> = {}, container?: DependencyContainer) {
    super(options, container)
  }

  /** The tsyringe container this server uses. */
  get di (): DependencyContainer {
    return this.container
  }

  protected override optionSpecs (): OptionSpecs {
    return {
      ...super.optionSpecs(),
      minServers: integer({ description: 'fewest workers', default: 1, min: 1 }),
      maxServers: integer({ description: 'most workers', default: 10, min: 1 }),
      jobTimeout: duration({ description: 'job timeout', default: 30_000 }),
      verbose: boolean({ description: 'say more', default: false })
    }
  }

  protected override validateOptions (options: ResolvedLineOptions): void {
    if (options.minServers > options.maxServers) {
      throw new RangeError(`options.minServers (${options.minServers}) must not exceed options.maxServers (${options.maxServers})`)
    }
  }

  protected override get endpoints (): readonly string[] {
    const address = this.#listener?.address()
    return typeof address === 'object' && address !== null ? [`tcp://127.0.0.1:${address.port}`] : []
  }

  protected override async bind (): Promise<void> {
    this.bindCalls++
    const listener = net.createServer((socket) => {
      if (this.#waiting !== undefined) {
        const waiting = this.#waiting
        this.#waiting = undefined
        waiting(socket)
      } else {
        this.#pending.push(socket)
      }
    })
    listener.listen(0, '127.0.0.1')
    await once(listener, 'listening')
    this.#listener = listener
  }

  protected override async accept (): Promise<LineRequest | undefined> {
    if (this.#stopped) return undefined
    const socket = this.#pending.shift() ?? await new Promise<net.Socket | undefined>((resolve) => { this.#waiting = resolve })
    if (socket === undefined) return undefined
    // A client that goes away mid-request must not crash the server.
    socket.on('error', (err) => this.log(3, `client socket: ${err.message}`))
    return { socket, peer: {} }
  }

  protected override async getClientInfo (request: LineRequest): Promise<void> {
    request.peer = { address: request.socket.remoteAddress }
  }

  protected override async processRequest (request: LineRequest): Promise<void> {
    request.line = await readLine(request.socket)
    request.socket.write(`echo: ${request.line}\n`)
  }

  protected override async postProcessRequest (request: LineRequest): Promise<void> {
    // Drain what the client still sends, so that its FIN is read and the socket closes.
    request.socket.resume()
    request.socket.end()
  }

  protected override async stopLoop (_graceful: boolean): Promise<void> {
    this.#stopped = true
    this.#waiting?.(undefined)
    this.#waiting = undefined
  }

  protected override async serverClose (): Promise<void> {
    for (const socket of this.#pending.splice(0)) socket.destroy()
    const listener = this.#listener
    this.#listener = undefined
    if (listener !== undefined) await new Promise((resolve) => listener.close(resolve))
    await super.serverClose()
  }
}

/** Reads one line (without its newline) from a socket, or what was sent when it ends first. */
export async function readLine (socket: net.Socket): Promise<string> {
  return await new Promise((resolve, reject) => {
    let text = ''
    const done = (value: string): void => {
      socket.off('data', onData).off('end', onEnd).off('error', reject)
      socket.pause()
      resolve(value)
    }
    const onData = (chunk: Buffer): void => {
      text += String(chunk)
      const nl = text.indexOf('\n')
      if (nl !== -1) done(text.slice(0, nl))
    }
    const onEnd = (): void => done(text)
    socket.on('data', onData).on('end', onEnd).on('error', reject)
  })
}

/** Connects to `endpoint`, sends `line` and returns everything the server sent before it closed. */
export async function request (endpoint: string, line: string | undefined): Promise<string> {
  const { port } = new URL(endpoint)
  const socket = net.connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  if (line !== undefined) socket.write(`${line}\n`)
  let reply = ''
  for await (const chunk of socket) reply += String(chunk)
  return reply
}

/** Starts `server.run()` and resolves with the endpoints once it listens; rejects if run() fails first. */
export async function start (server: LineServer, options?: Options<ResolvedLineOptions>): Promise<{ endpoints: readonly string[], done: Promise<void> }> {
  const listening = next(server, 'listening')
  const done = server.run(options)
  const [endpoints] = await Promise.race([listening, done.then(() => { throw new Error('run() resolved before listening') })])
  return { endpoints, done }
}

/** Resolves with the arguments of the next `event` that `server` emits. */
export async function next<E extends keyof ServerEvents> (server: Server<any, any>, event: E): Promise<ServerEvents[E]> {
  return await new Promise((resolve) => {
    server.once(event, ((...args: ServerEvents[E]) => resolve(args)) as any)
  })
}
