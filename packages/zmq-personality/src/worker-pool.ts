import type { Serializable } from 'node:child_process'
import { hostname } from 'node:os'
import { boolean, describe, type OptionSpecs, type Options } from '@net-server/core'
import type { ProcessRole } from '@net-server/prefork'
import { generateCurveKeyPair, isCurveKey } from './security/curve.js'
import type { WorkerCurve } from './security/local-workers.js'
import { ownKeyPair } from './security/server-security.js'
import type { ResolvedZmqServerOptions } from './server-options.js'
import { connectable } from './endpoints.js'
import { endpointOption } from './options.js'
import { HOST_LABEL } from './server-status.js'
import { ZmqServer, type ZmqRequest } from './zmq-server.js'

/** Options of {@link WorkerPool}, after resolution. */
export interface ResolvedWorkerPoolOptions extends ResolvedZmqServerOptions {
  /** The broker's backend to connect to, e.g. `tcp://jobs.example:6661`. */
  readonly connect: string
  /**
   * The broker's CURVE public key (Z85): the workers connect with CURVE (libzmq
   * `ZMQ_CURVE_SERVERKEY`). Their own key pair comes from `curveSecretKey` or
   * `curveKeyFile`, or is made fresh at start (then the broker cannot list it in
   * `workerKeys`).
   */
  readonly curveServerKey: string | undefined
  /** Speak plain MDP/0.1 (ZeroMQ RFC 7): no extension announced in READY. */
  readonly mdp: boolean
  /**
   * The name the broker lists this pool's workers under (`nsz status`, the start of
   * their routing ids): the host name (its first 64 characters) by default.
   */
  readonly hostLabel: string | undefined
}

/** Options of {@link WorkerPool}, as a user passes them. */
export type WorkerPoolOptions = Options<ResolvedWorkerPoolOptions>

/**
 * A preforked pool of workers for a broker that runs elsewhere: the scale-out
 * path. It is a {@link ZmqServer} without the broker: the parent binds nothing and
 * only supervises; each child connects to `connect` and serves `app` exactly as a
 * local worker does. The broker needs no change to serve local and remote workers
 * together.
 *
 * Overridden phases: `preBind` (empty: the broker elsewhere decides where plain
 * requests go), `bind` (nothing to bind; reads the CURVE keys), `workerEndpoint` (the
 * `connect` option), `validateOptions` (the broker's security options do not apply);
 * `ZmqServer`'s `stopLoop` and `serverClose` find no broker to drain or close.
 *
 * @example
 * await WorkerPool.run({ connect: 'tcp://10.0.0.5:6661', minServers: 8, app })
 */
export class WorkerPool<
  R extends ResolvedWorkerPoolOptions = ResolvedWorkerPoolOptions,
  Q extends ZmqRequest = ZmqRequest
> extends ZmqServer<R, Q> {
  #curve: WorkerCurve | undefined
  /** Child: while jobs run, tells the parent that the event loop runs. */
  #alive: NodeJS.Timeout | undefined
  /** Child: requests in their per-request steps, those given up included (their loop still runs). */
  #inRequests = 0

  protected override optionSpecs (): OptionSpecs {
    return {
      ...super.optionSpecs(),
      // Listed first under Sockets: a pool's one endpoint.
      connect: endpointOption({
        description: 'the broker backend to connect to (tcp://host:port)',
        default: undefined,
        group: 'Sockets',
        order: -1,
        what: 'the broker\'s backend endpoint',
        example: 'tcp://broker.example:6661',
        transports: ['tcp', 'ipc']
      }),
      // The pool's alone: a server's own children must announce their pids to its broker.
      mdp: boolean({ description: 'speak plain MDP/0.1 (RFC 7): announce no extension in READY', default: false, group: 'Workers' }),
      hostLabel: {
        kind: 'string',
        description: 'the name the broker lists these workers under (default: the host name)',
        default: undefined,
        group: 'Workers',
        placeholder: '<name>',
        parse: (raw: string) => raw.trim(),
        validate: (value: unknown, name: string) => {
          if (value !== undefined && (typeof value !== 'string' || !HOST_LABEL.test(value))) {
            throw new TypeError(`options.${name} must be 1 to 64 printable ASCII characters without spaces or '/', got ${describe(value)}`)
          }
          return value
        }
      },
      curveServerKey: {
        kind: 'string',
        description: 'the broker\'s CURVE public key: connect with CURVE',
        default: undefined,
        group: 'Security',
        parse: (raw: string) => raw.trim(),
        validate: (value: unknown, name: string) => {
          if (value !== undefined && !isCurveKey(value)) throw new TypeError(`options.${name} must be a 40-character Z85 key, got ${describe(value)}`)
          return value
        }
      }
    }
  }

  /** The options that configure a broker's sockets make no sense here; own keys need the broker's. */
  protected override validateOptions (options: R): void {
    for (const name of ['clientKeys', 'workerKeys'] as const) {
      if (options[name].length > 0) throw new RangeError(`options.${name} applies to a broker (ZmqServer), not to a WorkerPool`)
    }
    if (options.insecureBackend) throw new RangeError('options.insecureBackend applies to a broker (ZmqServer), not to a WorkerPool')
    if (options.curve !== undefined) throw new RangeError('options.curve applies to a broker (ZmqServer); a WorkerPool uses CURVE when options.curveServerKey is set')
    if (options.curveServerKey === undefined) {
      const own = options.curveSecretKey !== undefined ? 'curveSecretKey' : options.curveKeyFile !== undefined ? 'curveKeyFile' : undefined
      if (own !== undefined) throw new RangeError(`options.${own} needs options.curveServerKey, the broker's public key`)
    }
    super.validateOptions(options)
  }

  /** A child counts as busy for the spare-server rules only once all its `concurrency` slots hold a job. */
  protected override get childSlots (): number {
    return this.options.concurrency
  }

  /** Without a broker, each child reports its state over IPC, as in any prefork pool. */
  protected override get childReportsState (): boolean {
    return true
  }

  protected override get endpoints (): readonly string[] {
    return [this.options.connect]
  }

  protected override processTitle (role: ProcessRole): string {
    return role === 'parent' ? `zmq workers ${this.options.connect}` : super.processTitle(role)
  }

  /**
   * What each child gets at boot over its IPC channel (never its environment): the
   * CURVE keys, when the broker uses CURVE, and the start of its workers' routing ids,
   * `<hostLabel>/` (the host name by default), by which the broker's `nsz status`
   * names the host of each worker.
   */
  protected override childBootstrap (_pid: number): Serializable | undefined {
    return { workerTag: `${this.options.hostLabel ?? hostname().slice(0, 64)}/`, ...(this.#curve === undefined ? {} : { curve: { ...this.#curve } }) }
  }

  /** Empty: the broker, elsewhere, decides where plain requests go. */
  protected override async preBind (): Promise<void> {}

  /**
   * The pool connects out and binds no broker socket: reads its CURVE keys (or makes a
   * pair) for the children, and binds the status endpoint when there is one.
   */
  protected override async bind (): Promise<void> {
    const o = this.options
    if (o.curveServerKey !== undefined) {
      const own = await ownKeyPair(o) ?? generateCurveKeyPair()
      this.#curve = { serverKey: o.curveServerKey, publicKey: own.publicKey, secretKey: own.secretKey }
      this.log(2, `worker pool for ${o.connect} (CURVE, public key ${own.publicKey})`)
    } else {
      this.log(2, `worker pool for ${o.connect}`)
    }
    this.#watchJobs()
    await this.bindStatusEndpoint()
  }

  /**
   * The broker answers a job that runs past its `jobTimeout` with 504, but cannot reach
   * a process on this host: the pool applies the broker's rule to its children. A child
   * busy with jobs shows every heartbeat interval that its event loop runs; one that has
   * not for `jobTimeout` plus a heartbeat interval is blocked (a CPU-bound job, say) and
   * is killed at once, its other jobs lost with it. A child busy with any job says so
   * at its first and every heartbeat (`childAlive`), and says when it holds none. (Inside the child, a job that runs
   * past the same deadline while the loop runs is given up: see `runClientConnection`.)
   * Set `jobTimeout` as the broker's.
   */
  #watchJobs (): void {
    const { jobTimeout, heartbeatInterval } = this.options
    if (jobTimeout === 0) return
    const deadlines = new Map<number, NodeJS.Timeout>()
    const clear = (pid: number): void => {
      clearTimeout(deadlines.get(pid))
      deadlines.delete(pid)
    }
    const arm = (pid: number): void => {
      clear(pid)
      deadlines.set(pid, setTimeout(() => {
        deadlines.delete(pid)
        this.log(1, `worker ${pid} has shown no sign of life for ${jobTimeout + heartbeatInterval} ms while running jobs: replacing it`)
        this.killChild(pid, 'SIGKILL')
      }, jobTimeout + heartbeatInterval))
    }
    // A child says when it takes its first job and every heartbeat while it holds any,
    // and once it holds none: the deadline runs from its last word while it is busy.
    this.on('childAlive', (pid, busy) => {
      if (busy) arm(pid)
      else clear(pid)
    })
    this.on('childState', (pid, state) => { if (state === 'exiting') clear(pid) })
    this.on('childExit', clear)
    this.once('close', () => { for (const pid of [...deadlines.keys()]) clear(pid) })
  }

  /**
   * In a child: a job that runs past `jobTimeout` plus a heartbeat interval (the broker
   * has answered it 504 by then) is given up, and the child takes no new job and asks
   * to be replaced; its other jobs finish first, within `gracefulTimeout`. While jobs
   * run, the child tells the parent every heartbeat interval that its loop runs.
   */
  protected override async runClientConnection (request: Q): Promise<void> {
    const { jobTimeout, heartbeatInterval } = this.options
    if (!this.isChild || jobTimeout === 0) return await super.runClientConnection(request)
    this.#alive ??= setInterval(() => { if (this.#inRequests > 0) this.reportAlive() }, heartbeatInterval).unref()
    if (this.#inRequests++ === 0) this.reportAlive()
    const stuck = setTimeout(() => {
      this.log(1, `job ${request.job.id} has run for more than ${jobTimeout + heartbeatInterval} ms: giving it up, this worker is replaced`)
      this.abandonJob(request)
      this.workerAgent?.setSlots(0)
      this.askToRetire(`job ${request.job.id} ran past jobTimeout`)
    }, jobTimeout + heartbeatInterval)
    try {
      await super.runClientConnection(request)
    } finally {
      clearTimeout(stuck)
      if (--this.#inRequests === 0) this.reportAlive(false)
    }
  }

  protected override workerEndpoint (): string {
    return connectable(this.options.connect)
  }
}
