import type { Serializable } from 'node:child_process'
import { markInert, registerDefault, type OptionSpecs } from '@net-server/core'
import { PreForkServer, type ProcessRole } from '@net-server/prefork'
import { Status } from '@net-server/client'
import type { Dealer, Reply, SocketOptions } from 'zeromq'
import { appServices, replyFrames, type App, type JobFunction, type JobReply } from './app.js'
import type { Broker } from './broker.js'
import { watchBroker } from './broker-watch.js'
import type { ZmqRequest, ZmqServerStatus } from './types.js'
import { connectable, portOf, tcpEndpoint } from './endpoints.js'
import { ServerBroker } from './server-broker.js'
import { serveHttp, type HttpEndpoint } from './server-http.js'
import { RateMeter } from './rate-meter.js'
import { poolStatus } from './server-status.js'
import { checkDashboardOptions, zmqServerOptionSpecs, type ResolvedZmqServerOptions, type ZmqServerOptions } from './server-options.js'
import { WorkerAgent } from './worker-agent.js'
import { checkServerSecurity } from './security/server-security.js'
import { readWorkerBootstrap, workerCurveOptions, type WorkerBootstrap } from './security/local-workers.js'
import { bindControlSocket, serveControl } from './control.js'
import { DISPATCH_POLICY, SOCKET_FACTORY, zeromqSocketFactory, type SocketFactory } from './tokens.js'
import { leastRecentlyUsed, type DispatchPolicy } from './dispatch.js'
import type { ZapHandler } from './security/zap-handler.js'
import type { DependencyContainer } from 'tsyringe'

export type { ZmqRequest, ZmqServerStatus } from './types.js'

/** After a fast stop, a worker still busy with its job ends itself this much later. */
const FAST_STOP_GRACE_MS = 1000

/**
 * The preforking ZeroMQ job server: Net::Server::ZMQ for Node.
 *
 * The parent process is the broker: it binds a ROUTER frontend for clients and a
 * ROUTER backend for workers and balances jobs least-recently-used first. Each child
 * is a worker: a DEALER that speaks MDP/0.1 to the backend and runs `app` for each
 * job. `PreForkServer` starts, supervises, resizes and restarts the children.
 *
 * Overridden phases, where the seed's personality overrides them:
 * - `bind`: the broker binds both sockets (in the parent only; children never bind),
 *   after starting the ZAP handler when access rules, key lists or CURVE are set.
 * - `validateOptions`: checks the security options together (`docs/security.md`).
 * - `accept`: waits for the next job from the backend.
 * - `getClientInfo`: empty: a job carries no peer address; the broker applies the
 *   access rules when a peer connects.
 * - `allowDeny`: true, for the same reason; `allowDenyHook` still sees every job.
 * - `processRequest`: calls `app` (through `decodeRequest` / `encodeReply`) and replies.
 * - `postProcessRequest`: makes sure every job got a reply (403 when it was refused).
 *
 * @example
 * await ZmqServer.run({
 *   port: [6660, 6661],
 *   minServers: 5,
 *   maxServers: 10,
 *   app: (payload) => payload.toString().toUpperCase()
 * })
 */
export class ZmqServer<
  R extends ResolvedZmqServerOptions = ResolvedZmqServerOptions,
  Q extends ZmqRequest = ZmqRequest
> extends PreForkServer<R, Q> {
  // Parent: the broker, its ZAP handler, its own children's workers.
  readonly #parent = new ServerBroker({
    isAllowed: (address) => this.isAllowed({ address }),
    log: (level, message, fields) => { this.log(level, message, fields) },
    sockets: () => this.#sockets,
    dispatchPolicy: () => this.container.resolve<DispatchPolicy>(DISPATCH_POLICY)
  })

  #agent: WorkerAgent | undefined
  #services: ReadonlyMap<string, JobFunction> | undefined
  #control: Reply | undefined
  #stopLossLog: (() => void) | undefined
  #http: HttpEndpoint | undefined
  readonly #childCounts = { spawns: 0, exits: 0 }
  #boot: WorkerBootstrap | undefined
  readonly #rate = new RateMeter(10)
  // Worker: the jobs running through the per-request steps, and those given up.
  readonly #runs = new Map<Promise<void>, Q>()
  readonly #abandoned = new WeakSet<Q>()
  readonly #startedAt = Date.now()

  constructor (options: ZmqServerOptions & Partial<R> = {}, container?: ConstructorParameters<typeof PreForkServer>[1]) {
    super(options as Partial<R>, container)
    this.on('childSpawn', () => { this.#childCounts.spawns++ })
    this.on('childExit', () => { this.#childCounts.exits++ })
  }

  /** The URL Prometheus scrapes (`http://127.0.0.1:9464/metrics`), in the parent once bound with `metricsPort`; `undefined` otherwise. */
  get metricsUrl (): string | undefined {
    return this.#http?.urls.metricsUrl
  }

  /** The dashboard's URL (`http://127.0.0.1:9464/`), in the parent once bound with `dashboard`; `undefined` otherwise. */
  get dashboardUrl (): string | undefined {
    return this.#http?.urls.dashboardUrl
  }

  /** The broker, in the parent once bound; `undefined` in a worker. */
  get broker (): Broker | undefined {
    return this.#parent.broker
  }

  /**
   * The broker's CURVE public key, in the parent once bound with CURVE on a socket:
   * the `serverKey` that clients (and remote workers) need. `undefined` otherwise.
   */
  get serverKey (): string | undefined {
    return this.#parent.serverKey
  }

  /**
   * The ZAP handler that admits or refuses each connection to the broker, in the
   * parent once bound with access rules, key lists or CURVE; its `decision` events
   * tell who was admitted. `undefined` otherwise.
   */
  get zapHandler (): ZapHandler | undefined {
    return this.#parent.zap
  }

  /** The job functions by service name. */
  protected get services (): ReadonlyMap<string, JobFunction> {
    this.#services ??= appServices(this.options.app as App, this.options.service)
    return this.#services
  }

  /** Registers zeromq.js's {@link SOCKET_FACTORY} and the {@link DISPATCH_POLICY} `leastRecentlyUsed` unless the user registered them. */
  protected override registerDefaults (container: DependencyContainer): void {
    super.registerDefaults(container)
    registerDefault(container, SOCKET_FACTORY, () => zeromqSocketFactory)
    registerDefault(container, DISPATCH_POLICY, () => leastRecentlyUsed)
  }

  get #sockets (): SocketFactory {
    return this.container.resolve<SocketFactory>(SOCKET_FACTORY)
  }

  protected override optionSpecs (): OptionSpecs {
    return { ...super.optionSpecs(), ...zmqServerOptionSpecs() }
  }

  /** Prefork's checks, plus the security options together (a key for `curve`, CURVE for the key lists) and the dashboard's. */
  protected override validateOptions (options: R): void {
    super.validateOptions(options)
    checkServerSecurity(options)
    checkDashboardOptions(options)
  }

  protected override get endpoints (): readonly string[] {
    return this.#parent.endpoints === undefined ? [] : [this.#parent.endpoints.frontend, this.#parent.endpoints.backend]
  }

  /** The broker feeds the tally from its worker table: no message per job over IPC. */
  protected override get childReportsState (): boolean {
    return false
  }

  protected override processTitle (role: ProcessRole): string {
    // A child names the broker's public backend, not the private endpoint it joins.
    const backend = role === 'parent' ? this.#parent.endpoints?.backend : this.#bootstrap.backend ?? this.workerEndpoint()
    const bport = portOf(backend)
    return role === 'parent' ? `zmq broker ${portOf(this.#parent.endpoints?.frontend)}-${bport}` : `zmq worker ${bport}`
  }

  /**
   * What a child gets at boot over its IPC channel (never its environment): the
   * private backend endpoint, a routing-id tag of its own and, with CURVE on the
   * backend, its keys.
   */
  protected override childBootstrap (pid: number): Serializable | undefined {
    return this.#parent.childBootstrap(pid)
  }

  // -------------------------------------------------------------------------
  // The broker (parent)

  /**
   * Checks, before the broker binds, that the default service is one the app serves:
   * plain REQ requests go to it, and would otherwise wait for ever.
   */
  protected override async preBind (): Promise<void> {
    const { service } = this.options
    if (!this.services.has(service)) {
      throw new RangeError(`options.service ('${service}') must name one of the app's services (${[...this.services.keys()].join(', ')}): plain REQ requests go to it`)
    }
  }

  /**
   * Binds the broker's frontend and backend ROUTERs, and the status socket (parent
   * only). The ZAP handler starts first, so that no connection is accepted
   * unchecked: the backend admits the server's own children and, remote workers, only
   * by `workerKeys` or `insecureBackend`.
   */
  protected override async bind (): Promise<void> {
    const o = this.options
    await this.#parent.bind(o, [...this.services.keys()])
    const broker = this.#parent.broker!
    this.#watchBroker(broker)
    await this.bindStatusEndpoint()
    // Prometheus metrics and, with `dashboard`, the dashboard (`server-http.ts`).
    if (o.metricsPort !== undefined) this.#http = await serveHttp(this, broker, { appServices: [...this.services.keys()], isLocal: (worker) => this.#parent.isLocal(worker) })
    const endpoints = this.#parent.endpoints!
    this.log(2, `broker listening: frontend ${endpoints.frontend}, backend ${endpoints.backend}`)
  }

  /**
   * Core's pid file, privilege drop and signals; then (parent) the backend binds its
   * private `ipc://` endpoint for the children, now as the user they run as.
   */
  protected override async postBind (): Promise<void> {
    await super.postBind()
    if (this.#parent.backend !== undefined) this.log(3, `local workers join the backend on ${await this.#parent.local.bind(this.#parent.backend)}`)
  }

  #watchBroker (broker: Broker): void {
    this.#stopLossLog = watchBroker(broker, {
      gracefulTimeout: this.options.gracefulTimeout,
      scaleUp: this.options.scaleUpWait > 0,
      log: (level, message) => { this.log(level, message) },
      jobSent: () => { this.#rate.tick() },
      childOf: (worker) => (worker.pid !== undefined && this.#parent.isLocal(worker) ? worker.pid : undefined),
      workerOf: (pid) => this.#parent.localWorker(pid),
      setChildState: (pid, state) => { this.setChildState(pid, state) },
      killChild: (pid) => { this.killChild(pid, 'SIGKILL') },
      requestWaiting: () => { this.requestWaiting() },
      error: (err) => { this.emit('error', err) },
      peerName: (peer) => this.#parent.local.peerName(peer),
      onChildState: (listener) => { this.on('childState', listener) },
      // The child's tag is forgotten once its worker is out of the broker's table.
      onChildExit: (listener) => {
        this.on('childExit', (pid) => {
          listener(pid)
          this.#parent.local.forget(pid)
        })
      }
    })
  }

  /** How long the request waiting longest in the broker's queues has waited, for `scaleUpWait`. */
  protected override queueWait (): number {
    const at = this.#parent.broker?.oldestQueuedAt()
    return at === undefined ? 0 : Math.max(1, Date.now() - at)
  }

  /**
   * Graceful (QUIT): the broker answers new requests 503 and keeps forwarding the
   * replies of jobs in flight until they are done or `gracefulTimeout` passes; then
   * the children stop. Fast (TERM/INT): every queued and in-flight request gets 503
   * and the children stop at once. In a worker: the agent stops taking jobs.
   */
  protected override async stopLoop (graceful: boolean): Promise<void> {
    if (this.isChild) {
      // A fast stop abandons the job in progress: a job that never returns must not
      // keep the process until the parent's SIGKILL.
      if (!graceful) setTimeout(() => process.exit(0), FAST_STOP_GRACE_MS).unref()
      await super.stopLoop(graceful)
      await this.#agent?.close({ graceful })
      return
    }
    if (graceful) await this.#parent.broker?.drain(this.options.gracefulTimeout)
    else await this.#parent.broker?.close()
    await super.stopLoop(graceful)
  }

  /**
   * Closes the broker, then the ZAP handler (which must outlive the sockets it
   * guards), and the status socket (parent), then prefork's and core's cleanup.
   */
  protected override async serverClose (): Promise<void> {
    try {
      await this.#parent.broker?.close()
      // The summaries of the log lines held back, before the log closes.
      this.#stopLossLog?.()
      this.#parent.local.close()
      await this.#parent.zap?.close()
      await this.#http?.close()
      this.#http = undefined
      this.#control?.close()
      this.#control = undefined
      await this.#agent?.close({ graceful: false })
    } finally {
      await super.serverClose()
    }
  }

  /** The pool as the broker sees it, for `nsz status`. */
  status (): ZmqServerStatus {
    return poolStatus({
      broker: this.#parent.broker,
      isLocal: (worker) => this.#parent.isLocal(worker),
      children: this.children(),
      limits: this.limits,
      concurrency: this.options.concurrency,
      // A WorkerPool has no broker: its one endpoint is the backend it connects to.
      endpoints: { frontend: this.#parent.endpoints?.frontend ?? '', backend: this.#parent.endpoints?.backend ?? this.endpoints[0] ?? '' },
      jobsPerSecond: this.#rate.perSecond(),
      startedAt: this.#startedAt,
      childSpawns: this.#childCounts.spawns,
      childExits: this.#childCounts.exits,
      urls: this.#http?.urls ?? {}
    })
  }

  /**
   * Binds the endpoint that `nsz status` asks (`controlEndpoint`, or
   * `ipc://<pidFile>.sock` when there is a pid file; nothing otherwise). Called from
   * `bind` in the parent; `WorkerPool` calls it too.
   */
  protected async bindStatusEndpoint (): Promise<void> {
    const o = this.options
    const endpoint = o.controlEndpoint ?? (o.pidFile === undefined ? undefined : `ipc://${o.pidFile}.sock`)
    if (endpoint === undefined) return
    const socket = await bindControlSocket(this.#sockets, endpoint, this.#parent.controlOptions, { context: this.#parent.context })
    this.#control = socket
    // libzmq leaves an ipc socket file behind on close; core removes it after the socket closes
    if (endpoint.startsWith('ipc://')) this.addRuntimeFile(endpoint.slice('ipc://'.length), 'control socket')
    serveControl(socket, () => this.status(), (message) => { this.log(1, message) }).catch(() => {})
  }

  // -------------------------------------------------------------------------
  // The worker (child)

  /** What the parent handed this child at boot (prefork's `bootstrapData`). */
  get #bootstrap (): WorkerBootstrap {
    this.#boot ??= readWorkerBootstrap(this.bootstrapData)
    return this.#boot
  }

  /** The endpoint a worker connects to: the one the parent handed down at boot (its private `ipc://` one). */
  protected workerEndpoint (): string {
    const fromParent = this.#bootstrap.endpoint
    if (fromParent !== undefined) return fromParent
    const o = this.options
    return connectable(o.backend ?? tcpEndpoint(o.host, o.port[1]))
  }

  /**
   * The zeromq.js options of this worker's DEALER (child, in `childConnect`): CURVE
   * with the keys the parent handed down at boot when the backend uses CURVE, else none.
   */
  protected workerSocketOptions (): SocketOptions<Dealer> {
    return workerCurveOptions(this.#bootstrap.curve)
  }

  /** Connects this worker's DEALER to the backend (after `childInitHook`, before it reports ready). */
  protected override async childConnect (): Promise<void> {
    const o = this.options
    const services = [...this.services.keys()]
    this.#agent = new WorkerAgent({
      endpoint: this.workerEndpoint(),
      services: [o.service, ...services.filter((s) => s !== o.service)].filter((s) => this.services.has(s)),
      heartbeatInterval: o.heartbeatInterval,
      heartbeatLiveness: o.heartbeatLiveness,
      socketOptions: this.workerSocketOptions(),
      routingIdPrefix: this.#bootstrap.workerTag,
      concurrency: o.concurrency,
      extension: !('mdp' in o && o.mdp === true)
    }, this.#sockets)
    this.#agent.on('error', (err) => { this.log(1, `worker: ${err.message}`) })
    await this.#agent.connect()
  }

  /**
   * In a worker, runs up to `concurrency` jobs at once, each through the per-request
   * steps: the next `accept` waits only while every slot holds a job.
   */
  protected override async loop (): Promise<void> {
    if (!this.isChild) return await super.loop()
    const runs = this.#runs
    while (!this.stopping) {
      const request = await this.accept()
      if (request === undefined) break
      const run = this.runClientConnection(request).finally(() => { runs.delete(run) })
      runs.set(run, request)
    }
    // The jobs given up (abandonJob) are not waited for: they may never end.
    for (let left; (left = [...runs].filter(([, r]) => !this.#abandoned.has(r))).length > 0;) await Promise.all(left.map(([run]) => run))
  }

  /**
   * In a worker: gives up a job that is stuck (the broker gets 502 for it, unless it
   * answered it already), so that neither a graceful stop nor the loop's end waits for
   * it. Its per-request steps go on, but its reply can no longer be sent.
   */
  protected abandonJob (request: Q): void {
    this.#abandoned.add(request)
    this.#agent?.abandon(request.job)
  }

  /** In a worker: its agent (the DEALER to the broker), once connected. */
  protected get workerAgent (): WorkerAgent | undefined {
    return this.#agent
  }

  /**
   * Waits for the next job from the broker (at most `concurrency` run at once);
   * `undefined` once the worker stops. The last job before `maxRequests` sets the
   * worker's slots to 0: it takes no new job, and finishes those it runs.
   */
  protected override async accept (): Promise<Q | undefined> {
    const job = await this.#agent?.next()
    if (job === undefined) return undefined
    if (this.requestsLeft <= 1) this.#agent!.setSlots(0)
    return { peer: {}, job, service: job.service, frames: job.body, status: undefined, processed: false } as unknown as Q
  }

  /** Empty: ZeroMQ does not tell a worker who sent a job (see `docs/zmq.md`). */
  protected override async getClientInfo (_request: Q): Promise<void> {}

  /**
   * Admits every job: the peer's address is known only to the broker, which applies
   * `allow`, `deny`, `cidrAllow` and `cidrDeny` when the peer connects. Override
   * `allowDenyHook` to refuse jobs by their content.
   */
  protected override async allowDeny (_request: Q): Promise<boolean> {
    return true
  }

  /**
   * Calls the job function for the request's service and replies: 200 with the
   * encoded result, 500 with the error's message when it throws, 404 when this
   * worker has no function for the service.
   */
  protected override async processRequest (request: Q): Promise<void> {
    request.processed = true
    const fn = this.services.get(request.service)
    if (fn === undefined) {
      this.reply(request, Status.NO_SERVICE, `no job function for service '${request.service}'`)
      return
    }
    let frames: Buffer[]
    try {
      // The default codec is synchronous, and so may the job be: no await where nothing waits.
      const input = this.decodeRequest === ZMQ_SERVER_STEPS.decodeRequest ? plainInput(request.frames) : await this.decodeRequest(request)
      const returned = fn(input as Buffer | Buffer[], { service: request.service, jobId: request.job.id, frames: request.frames })
      const result = isThenable(returned) ? await returned : returned
      frames = this.encodeReply === ZMQ_SERVER_STEPS.encodeReply ? replyFrames(result as JobReply) : await this.encodeReply(result, request)
    } catch (err) {
      this.log(1, `job ${request.job.id} (${request.service}) failed: ${err instanceof Error ? err.message : String(err)}`)
      this.reply(request, Status.APP_ERROR, await this.encodeError(err, request))
      return
    }
    this.reply(request, Status.OK, frames)
  }

  /** Makes sure the job was answered: 403 when the peer was refused, 500 when nothing replied. */
  protected override async postProcessRequest (request: Q): Promise<void> {
    if (request.job.replied) return
    if (request.processed) this.reply(request, Status.APP_ERROR, 'the job ended without a reply')
    else this.reply(request, Status.DENIED, 'denied')
  }

  /**
   * Turns the request into the job function's argument: the single frame as a
   * Buffer, or the array of frames. Override to decode (JSON, protobuf …).
   */
  protected async decodeRequest (request: Q): Promise<unknown> {
    return plainInput(request.frames)
  }

  /** Turns the job function's result into reply frames. Override to encode. */
  protected async encodeReply (result: unknown, _request: Q): Promise<Buffer[]> {
    return replyFrames(result as JobReply)
  }

  /** Turns a job's error into the body of its 500 reply: the message by default. */
  protected async encodeError (error: unknown, _request: Q): Promise<Buffer[]> {
    return [Buffer.from(error instanceof Error ? error.message : String(error))]
  }

  /**
   * Sends the reply for a job once; later calls are ignored. 502 and 503 are not
   * for jobs: from a worker they tell the broker that the worker is leaving (see
   * `docs/protocol.md`), so they throw a RangeError here.
   */
  protected reply (request: Q, status: number, body: string | Buffer | readonly Buffer[]): void {
    if (status === Status.WORKER_LOST || status === Status.UNAVAILABLE) {
      throw new RangeError(`a job cannot reply ${status}: the status is the worker's own signal that it leaves; use 500 or another status`)
    }
    if (request.job.replied) return
    request.status = status
    request.job.reply(body, status)
  }

  static {
    markInert(this.prototype.getClientInfo, this.prototype.allowDeny)
  }
}

/** The default steps, to tell whether a subclass replaced them. */
const ZMQ_SERVER_STEPS = ZmqServer.prototype as unknown as { decodeRequest: unknown, encodeReply: unknown }

/** The job function's argument by default: the single frame as a Buffer, or a copy of the array of frames. */
function plainInput (frames: readonly Buffer[]): Buffer | Buffer[] {
  return frames.length === 1 ? frames[0]! : [...frames]
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}
