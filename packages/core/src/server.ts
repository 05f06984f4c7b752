import { EventEmitter } from 'eventemitter3'
import type { DependencyContainer } from 'tsyringe'
import { AccessControl, type PeerInfo } from './access.js'
import { createContainer } from './container.js'
import { alreadyRunningError } from './errors.js'
import type { ServerEvents } from './events.js'
import { PinoLogger, type Logger, type LogLevel } from './logger.js'
import { awaitedBy, runNamed } from './named-run.js'
import { parseCommandLine, parseConfFile, resolveOptions, type OptionSpecs } from './options.js'
import { PidFile, removeFiles, type NamedFile } from './pid-file.js'
import { checkPrincipals, dropPrivileges, prepareFilesForDrop } from './privileges.js'
import { serverOptionSpecs, type Options, type ResolvedServerOptions } from './server-options.js'
import { SignalRegistry, type SignalHandlers } from './signals.js'
import { isInert, markInert } from './steps.js'
import { LOGGER } from './tokens.js'

/** What the per-request steps pass along: a personality extends it with its payload. */
export interface RequestContext {
  /** Who sent the request, as far as the transport tells (`getClientInfo` fills it). */
  peer: PeerInfo
}

type RunState = 'new' | 'running' | 'stopping' | 'closed'

/**
 * The abstract server: Net::Server's lifecycle as overridable steps.
 *
 * `run()` is a template method: `configureHook → configure → postConfigure →
 * postConfigureHook → preBind → bind → postBindHook → postBind → preLoopHook → loop
 * → serverClose`. For each request the loop calls `runClientConnection`, itself
 * `accept → postAccept → getClientInfo → postAcceptHook → allowDeny &&
 * allowDenyHook → processRequest (or requestDeniedHook) → postProcessRequestHook →
 * postProcessRequest → postClientConnectionHook`.
 *
 * Phases are `protected` methods a personality overrides (calling `super` where it
 * extends); hooks are `protected` no-ops a user overrides. Options are declared in
 * {@link Server.optionSpecs} and resolved with Net::Server's precedence:
 * constructor > command line > `run()` options > conf file > defaults.
 *
 * @typeParam R - the resolved options of the concrete class
 * @typeParam Q - the per-request context of the concrete class
 */
export abstract class Server<
  R extends ResolvedServerOptions = ResolvedServerOptions,
  Q extends RequestContext = RequestContext
> extends EventEmitter<ServerEvents> {
  /** The tsyringe container with this server's infrastructure (logger, clock, …). */
  protected readonly container: DependencyContainer
  readonly #constructorOptions: Readonly<Record<string, unknown>>
  #runOptions: Readonly<Record<string, unknown>> = {}
  #options: R | undefined
  #logger: Logger | undefined
  #access: AccessControl | undefined
  #pidFile: PidFile | undefined
  readonly #runtimeFiles: NamedFile[] = []
  #state: RunState = 'new'
  // Set once 'started' is logged; a server that never said it started does not say it stopped.
  #announced = false
  #silentRelease = false
  #done: Promise<void> | undefined
  #lifecycleName: string | undefined
  readonly #signals = new SignalRegistry((signal, err) => this.#fail(`signal ${signal} failed`, err))

  /**
   * @param options - the highest-precedence option source
   * @param container - replaces infrastructure; see `createContainer()`
   */
  constructor (options: Options<R> = {}, container?: DependencyContainer) {
    super()
    this.#constructorOptions = { ...options }
    this.container = container ?? createContainer()
    this.registerDefaults(this.container)
  }

  /**
   * Builds a server of this class and runs it, like the seed's
   * `Net::Server::ZMQ->run(...)`; `options` are the `run()` source. Resolves with
   * the server once it has closed.
   *
   * @example
   * await MyServer.run({ logLevel: 3 })
   */
  static async run<S extends Server<any, any>>(
    this: new (options?: any, container?: DependencyContainer) => S,
    options?: Parameters<S['run']>[0],
    container?: DependencyContainer
  ): Promise<S> {
    const server = new this(undefined, container)
    await server.run(options)
    return server
  }

  /** The resolved options; available from `configure` on. */
  get options (): R {
    if (this.#options === undefined) throw new Error('options are resolved in configure(); they are not available yet')
    return this.#options
  }

  /** True once a stop was requested: loops must not take new work. */
  get stopping (): boolean {
    return this.#state === 'stopping' || this.#state === 'closed'
  }

  /** Runs the whole lifecycle; resolves when the server has closed, rejects when it cannot start. */
  async run (options: Options<R> = {}): Promise<void> {
    if (this.#state !== 'new') throw alreadyRunningError()
    this.#state = 'running'
    this.#runOptions = { ...options }
    const { name, done } = runNamed(async () => await this.#lifecycle())
    this.#lifecycleName = name
    this.#done = done
    return await this.#done
  }

  async #lifecycle (): Promise<void> {
    try {
      await this.configureHook() // user: before options are read
      await this.configure() // resolve options from every source
      await this.postConfigure() // logger, access rules, pid file and user checks
      await this.postConfigureHook() // user: options are final
      await this.serve() // bind, then serve until stopped
    } catch (err) {
      await this.#closeQuietly()
      throw err
    }
    await this.serverClose() // release everything
  }

  /**
   * Binds and serves (after `postConfigureHook`, before `serverClose`): `preBind →
   * bind → postBindHook → postBind → 'listening' → preLoopHook → loop`. A
   * personality whose process serves without binding (a prefork child) overrides it.
   */
  protected async serve (): Promise<void> {
    await this.preBind() // personality: prepare to bind
    await this.bind() // personality: open the listening sockets
    await this.postBindHook() // user: sockets are bound
    await this.postBind() // pid file, privileges, signals
    this.emit('listening', this.endpoints)
    await this.preLoopHook() // user: about to serve
    if (!this.stopping) await this.loop() // personality: serve until stopped
  }

  /**
   * Stops the server and resolves once `run()` has finished. A graceful stop lets
   * work in flight finish (Net::Server's QUIT); a fast one abandons it (TERM/INT).
   * Called from the server's own phases, hooks or requests, or from anything that
   * they await (Net::Server's `server_close` from `process_request`), it resolves once
   * the stop is requested, since `run()` cannot finish before the caller returns.
   */
  async close (options: { graceful?: boolean } = {}): Promise<void> {
    if (this.#state === 'new') {
      this.#state = 'closed'
      return
    }
    const inside = this.#lifecycleName !== undefined && awaitedBy(this.#lifecycleName)
    const stop = this.#requestStop(options.graceful ?? false)
    if (inside) {
      // The stop may itself wait for the caller (a worker finishing the job whose step
      // called close()): it goes on without the caller waiting for it.
      stop.catch((err: unknown) => { this.#fail('close failed', err) })
      return
    }
    await stop
    await this.#done?.catch(() => {})
  }

  async #requestStop (graceful: boolean): Promise<void> {
    if (this.#state !== 'running') return
    this.#state = 'stopping'
    await this.stopLoop(graceful)
  }

  /**
   * Writes a log line when `level` is at most `logLevel` (Net::Server's `log`).
   *
   * @example
   * this.log(3, `worker ${pid} ready`)
   */
  log (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void {
    const threshold = this.#options?.logLevel ?? 2
    if (level > threshold) return
    this.#logger ??= new PinoLogger()
    this.#logger.write(level, message, fields)
  }

  /**
   * Every option this server knows, with its description and default: for help
   * texts and command-line front ends such as `nsz`.
   */
  describeOptions (): OptionSpecs {
    return this.optionSpecs()
  }

  /** True when `log(level, …)` would write: guard costly messages with it. */
  isLogging (level: LogLevel): boolean {
    return level <= (this.#options?.logLevel ?? 2)
  }

  /** Reopens the log file (after rotation); bound to USR1. */
  reopenLog (): void {
    // A logger that could not reopen has said why.
    if (this.#logger?.reopen?.() !== false) this.log(2, 'log reopened')
  }

  // -------------------------------------------------------------------------
  // Declarations a personality extends

  /**
   * Every option this class knows. A subclass returns `{ ...super.optionSpecs(),
   * mine: integer({...}) }`, as Net::Server's `options()` adds keys.
   */
  protected optionSpecs (): OptionSpecs {
    return serverOptionSpecs()
  }

  /**
   * Checks that need several options at once (`minServers <= maxServers`); throws a
   * RangeError naming the options. Runs in `configure`, before anything is bound.
   */
  protected validateOptions (_options: R): void {}

  /** Signals and what they do; a subclass spreads `super.signalHandlers()` and adds its own. */
  protected signalHandlers (): SignalHandlers {
    return {
      // The stop only: a handler that waited for run() to finish would hold back the
      // signals queued behind it.
      SIGTERM: async () => { await this.#requestStop(false) },
      SIGINT: async () => { await this.#requestStop(false) },
      SIGUSR1: () => this.reopenLog()
    }
  }

  /** Registers default infrastructure in the container, keeping what the user registered. */
  protected registerDefaults (_container: DependencyContainer): void {}

  /** The endpoints reported by the `listening` event. */
  protected get endpoints (): readonly string[] {
    return []
  }

  // -------------------------------------------------------------------------
  // Phases, in the order `run()` calls them

  /** Resolves options from every source (runs after `configureHook`, before `postConfigure`). */
  protected async configure (): Promise<void> {
    const specs = this.optionSpecs()
    const ctor = this.#constructorOptions
    const argv = ctor.argv ?? this.#runOptions.argv ?? specs.argv?.default
    const commandLine = Array.isArray(argv) ? parseCommandLine(argv as string[], specs) : {}
    const confFile = ctor.confFile ?? commandLine.confFile ?? this.#runOptions.confFile
    const fromFile = typeof confFile === 'string' ? parseConfFile(confFile, specs) : {}
    const options = resolveOptions<R>(specs, { constructor: ctor, commandLine, run: this.#runOptions, confFile: fromFile })
    this.validateOptions(options)
    this.#options = options
  }

  /**
   * Sets up logging and access rules, and refuses to start when the pid file
   * belongs to a live process or `user`/`group` do not exist (runs after
   * `configure`, before `postConfigureHook`).
   */
  protected async postConfigure (): Promise<void> {
    const o = this.options
    this.#logger = this.container.isRegistered(LOGGER, true)
      ? this.container.resolve<Logger>(LOGGER)
      : new PinoLogger({ file: o.logFile })
    this.#access = new AccessControl(o)
    if (o.pidFile !== undefined) {
      this.#pidFile = new PidFile(o.pidFile)
      this.#pidFile.check()
    }
    checkPrincipals(o.user, o.group)
  }

  /**
   * Registers a file that this server makes before it drops privileges and removes
   * when it closes, such as an `ipc://` socket file; call it from `bind`. `postBind`
   * hands it over to `user` with the pid file, and `serverClose` removes it. `what`
   * names it in messages (`control socket`).
   */
  protected addRuntimeFile (path: string, what: string): void {
    this.#runtimeFiles.push([path, what])
  }

  /** Prepares to bind (after `postConfigureHook`, before `bind`); empty here. */
  protected async preBind (): Promise<void> {}

  /** Opens the listening sockets (after `preBind`, before `postBindHook`); a personality's job. */
  protected async bind (): Promise<void> {}

  /**
   * Writes the pid file, drops privileges and installs signal handlers (after
   * `postBindHook`, before `preLoopHook`); `listening` is emitted right after. Before
   * the drop, the pid file, the runtime files and the log file are handed over to
   * `user`, and the start fails when `user` could not remove them on stop.
   */
  protected async postBind (): Promise<void> {
    const o = this.options
    this.#pidFile?.write()
    const removable: NamedFile[] = this.#pidFile === undefined ? this.#runtimeFiles : [[this.#pidFile.path, 'pid file'], ...this.#runtimeFiles]
    for (const warning of prepareFilesForDrop(o.user, o.group, removable, o.logFile === undefined ? [] : [[o.logFile, 'log file']])) this.log(1, warning)
    dropPrivileges(o.user, o.group)
    if (o.handleSignals) this.#signals.install(this.signalHandlers())
    this.log(2, `${this.constructor.name} started`, { endpoints: this.endpoints })
    this.#announced = true
  }

  /**
   * Serves until stopped (after `preLoopHook`, before `serverClose`). The default
   * takes requests one at a time; a personality replaces it.
   */
  protected async loop (): Promise<void> {
    while (!this.stopping) {
      const request = await this.accept()
      if (request === undefined) break
      await this.runClientConnection(request)
    }
  }

  /**
   * Makes `loop()` return: called once by `close()`. A personality that blocks in
   * `accept()` or supervises children overrides it.
   */
  protected async stopLoop (_graceful: boolean): Promise<void> {}

  /**
   * Releases everything (after `loop`): runs `preServerCloseHook`, removes signal
   * handlers and the pid file, closes the logger and emits `close`. A personality
   * closes its own resources and calls `super.serverClose()` last.
   */
  protected async serverClose (): Promise<void> {
    try {
      await this.preServerCloseHook()
    } finally {
      this.#release()
    }
  }

  #release (): void {
    this.#signals.uninstall()
    // A file left behind is said, not thrown: the server stops all the same.
    removeFiles(this.#runtimeFiles.splice(0), this.#pidFile, (message) => { this.log(1, message) })
    if (this.#logger !== undefined) {
      if (!this.#silentRelease) this.log(2, `${this.constructor.name} stopped`)
      this.#logger.close?.()
      // Lines logged after close (late child exits) go to standard error, not to a closed file.
      this.#logger = undefined
    }
    this.#state = 'closed'
    this.emit('close')
  }

  async #closeQuietly (): Promise<void> {
    this.#state = 'stopping'
    // A start that failed is reported by whoever awaits run(), in one message.
    if (!this.#announced) this.#silentRelease = true
    try {
      await this.serverClose()
    } catch (err) {
      this.#fail('cleanup after a failed start failed', err)
      this.#release()
    }
  }

  #fail (message: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    this.log(0, `${message}: ${error.message}`)
    this.emit('error', error)
  }

  // -------------------------------------------------------------------------
  // The per-request steps

  /**
   * Runs the per-request steps for one accepted request. An error thrown by a step
   * is logged and emitted as `error`; the request is then abandoned, but the
   * closing steps (`postProcessRequestHook`, `postProcessRequest`,
   * `postClientConnectionHook`) still run, each on its own, so nothing leaks.
   */
  protected async runClientConnection (request: Q): Promise<void> {
    // A step that no class overrode does nothing: it is skipped, at no await (steps.ts).
    try {
      if (!isInert(this.postAccept)) await this.postAccept(request) // personality: the request is in hand
      if (!isInert(this.getClientInfo)) await this.getClientInfo(request) // personality: fill request.peer
      if (!isInert(this.postAcceptHook)) await this.postAcceptHook(request) // user: peer is known
      if ((isInert(this.allowDeny) || await this.allowDeny(request)) && (isInert(this.allowDenyHook) || await this.allowDenyHook(request))) {
        await this.processRequest(request) // personality: do the work, reply
      } else if (!isInert(this.requestDeniedHook)) {
        await this.requestDeniedHook(request) // user: the peer was refused
      }
    } catch (err) {
      this.#fail('request failed', err)
    }
    if (!isInert(this.postProcessRequestHook)) await this.#guard(this.postProcessRequestHook, request) // user: the reply is sent
    if (!isInert(this.postProcessRequest)) await this.#guard(this.postProcessRequest, request) // personality: release the request
    if (!isInert(this.postClientConnectionHook)) await this.#guard(this.postClientConnectionHook, request) // user: all done
  }

  async #guard (step: (request: Q) => Promise<void>, request: Q): Promise<void> {
    try {
      await step.call(this, request)
    } catch (err) {
      this.#fail('request failed', err)
    }
  }

  /** Waits for the next request; `undefined` ends the loop. The first per-request step. */
  protected abstract accept (): Promise<Q | undefined>

  /** Runs right after `accept`, before `getClientInfo`; empty here. */
  protected async postAccept (_request: Q): Promise<void> {}

  /** Fills `request.peer` (after `postAccept`, before `postAcceptHook`); empty here. */
  protected async getClientInfo (_request: Q): Promise<void> {}

  /**
   * Applies Net::Server's `allow`, `deny`, `cidrAllow` and `cidrDeny` to the peer
   * (after `postAcceptHook`, before `allowDenyHook`).
   */
  protected async allowDeny (request: Q): Promise<boolean> {
    return this.#access?.allows(request.peer) ?? true
  }

  /** Does the work and replies (after `allowDenyHook` admits, before `postProcessRequestHook`). */
  protected abstract processRequest (request: Q): Promise<void>

  /** Releases the request (after `postProcessRequestHook`, before `postClientConnectionHook`); empty here. */
  protected async postProcessRequest (_request: Q): Promise<void> {}

  /** True when the access rules admit `peer`: for personalities that check peers outside the per-request steps. */
  protected isAllowed (peer: PeerInfo): boolean {
    return this.#access?.allows(peer) ?? true
  }

  // -------------------------------------------------------------------------
  // Hooks: no-ops for users to override

  /** Runs first in `run()`, before options are resolved. */
  protected async configureHook (): Promise<void> {}

  /** Runs after `postConfigure`, before `preBind`: options are final. */
  protected async postConfigureHook (): Promise<void> {}

  /** Runs after `bind`, before `postBind`: sockets are bound, privileges not yet dropped. */
  protected async postBindHook (): Promise<void> {}

  /** Runs after `postBind` and the `listening` event, before `loop`. */
  protected async preLoopHook (): Promise<void> {}

  /** Runs after `getClientInfo`, before `allowDeny`: the peer is known. */
  protected async postAcceptHook (_request: Q): Promise<void> {}

  /** Runs after `allowDeny` admitted the peer, before `processRequest`; return false to refuse. */
  protected async allowDenyHook (_request: Q): Promise<boolean> {
    return true
  }

  /** Runs instead of `processRequest` when `allowDeny` or `allowDenyHook` refused the peer. */
  protected async requestDeniedHook (_request: Q): Promise<void> {}

  /** Runs after `processRequest` (or `requestDeniedHook`), before `postProcessRequest`. */
  protected async postProcessRequestHook (_request: Q): Promise<void> {}

  /** Runs last for each request, after `postProcessRequest`. */
  protected async postClientConnectionHook (_request: Q): Promise<void> {}

  /** Runs first in `serverClose`, before anything is released. */
  protected async preServerCloseHook (): Promise<void> {}

  static {
    const steps = this.prototype
    markInert(steps.postAccept, steps.getClientInfo, steps.postProcessRequest, steps.postAcceptHook, steps.allowDenyHook,
      steps.requestDeniedHook, steps.postProcessRequestHook, steps.postClientConnectionHook)
  }
}
