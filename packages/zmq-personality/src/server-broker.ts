/**
 * The broker's side of a {@link ZmqServer}, in the parent: the ZAP handler and the
 * broker it guards, made and bound with the server's security options, and what the
 * parent knows of its own children's workers (their private backend endpoint, their
 * tags, their bootstrap data). The server keeps the lifecycle; this keeps the parts.
 * @internal
 */
import type { Serializable } from 'node:child_process'
import { pickOptions } from '@net-server/core'
import { Context, type Reply, type Router, type SocketOptions } from 'zeromq'
import { Broker } from './broker.js'
import type { DispatchPolicy } from './dispatch.js'
import { tcpEndpoint } from './endpoints.js'
import { brokerServerOptionSpecs } from './options.js'
import type { ResolvedZmqServerOptions } from './server-options.js'
import { LocalWorkers, notingBackend, type WorkerCurve } from './security/local-workers.js'
import { brokerSecurity, zapPeer, type BrokerSecurity } from './security/server-security.js'
import { ZapHandler, type ZapLog } from './security/zap-handler.js'
import type { SocketFactory } from './tokens.js'
import type { BrokerEndpoints, WorkerInfo } from './types.js'

/** What the broker's side needs of its server. */
export interface ServerBrokerHost {
  /** Core's access rules, for frontend peers. */
  isAllowed (address: string): boolean
  log: ZapLog
  sockets (): SocketFactory
  dispatchPolicy (): DispatchPolicy
}

/** The parent's broker, its ZAP handler and its own children's workers; empty in a worker. */
export class ServerBroker {
  /** The children's private backend endpoint and their per-child tags. */
  readonly local = new LocalWorkers()
  /** The broker's own zeromq context, so that its ZAP handler is the only one there. */
  readonly context = new Context({ blocky: false })
  readonly #host: ServerBrokerHost
  #broker: Broker | undefined
  #endpoints: BrokerEndpoints | undefined
  #zap: ZapHandler | undefined
  #backend: Router | undefined
  #security: BrokerSecurity | undefined

  constructor (host: ServerBrokerHost) {
    this.#host = host
  }

  /** The broker, once made (before it binds). */
  get broker (): Broker | undefined {
    return this.#broker
  }

  /** The bound endpoints, once bound. */
  get endpoints (): BrokerEndpoints | undefined {
    return this.#endpoints
  }

  /** The ZAP handler, once started. */
  get zap (): ZapHandler | undefined {
    return this.#zap
  }

  /** The backend ROUTER, once made: the children's private endpoint binds on it. */
  get backend (): Router | undefined {
    return this.#backend
  }

  /** The broker's CURVE public key, once bound with CURVE on a socket. */
  get serverKey (): string | undefined {
    return this.#security?.serverKey
  }

  /** A TCP status endpoint obeys the frontend's rules (ZAP, CURVE, client keys). */
  get controlOptions (): SocketOptions<Reply> {
    return this.#security?.frontendSocketOptions ?? {}
  }

  /**
   * Starts the ZAP handler, then makes and binds the broker's two ROUTERs, and says the
   * server's public key when a socket uses CURVE. Each part is kept as soon as it exists,
   * so that a start that fails half-way closes what it opened.
   */
  async bind (o: ResolvedZmqServerOptions, services: readonly string[]): Promise<void> {
    const security = await brokerSecurity(o, {
      allowAddress: (address) => this.#host.isAllowed(address),
      isOwnChild: (pid) => this.local.isChild(pid),
      // Counted and logged as the broker's losses, rate-limited; the broker exists by the time a socket binds.
      refused: (request, reason, why) => { this.#broker?.zapRefused(reason, zapPeer(request), why) }
    })
    // The handler's own refusal line (level 2) would say each refusal a second time, unlimited.
    const zapLog: ZapLog = (level, message, fields) => { if (level !== 2) this.#host.log(level, message, fields) }
    this.#zap = new ZapHandler({ authorize: security.authorize, context: this.context, log: zapLog })
    await this.#zap.start()
    const context = { context: this.context }
    const broker = new Broker({
      frontend: o.frontend ?? tcpEndpoint(o.host, o.port[0]),
      backend: o.backend ?? tcpEndpoint(o.host, o.port[1]),
      defaultService: o.service,
      services: [...services],
      ...pickOptions(o, brokerServerOptionSpecs),
      frontendSocketOptions: { ...security.frontendSocketOptions, ...context },
      backendSocketOptions: { ...security.backendSocketOptions, ...context },
      dispatchPolicy: o.dispatchPolicy ?? this.#host.dispatchPolicy()
    }, notingBackend(this.#host.sockets(), (router) => { this.#backend = router }))
    this.#broker = broker
    this.#endpoints = await broker.bind()
    if (this.#backend?.context !== this.context) throw new TypeError('the SOCKET_FACTORY must make its sockets with options.context: ZAP guards the broker only there')
    this.#security = security
    if (security.serverKey !== undefined) this.#host.log(2, `CURVE on ${security.curve === 'both' ? 'frontend and backend' : security.curve}: server public key ${security.serverKey}`)
  }

  /** True for a worker of one of this server's own children (its routing id carries the tag issued to its pid). */
  isLocal (worker: WorkerInfo): boolean {
    return this.local.owns(worker)
  }

  /** The broker's worker of the child `pid`, if it has one. */
  localWorker (pid: number): WorkerInfo | undefined {
    return this.#broker?.workers().find((w) => w.pid === pid && this.isLocal(w))
  }

  /** A child's bootstrap data: the private endpoint, its tag and, with CURVE on the backend, its keys. */
  childBootstrap (pid: number): Serializable | undefined {
    const endpoint = this.local.endpoint
    if (endpoint === undefined) return undefined
    const curve: WorkerCurve | undefined = this.#security?.childCurve
    return { endpoint, backend: this.#endpoints?.backend, workerTag: this.local.issue(pid), ...(curve === undefined ? {} : { curve: { ...curve } }) }
  }
}
