import type { ChildProcess, Serializable, SendHandle } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { resolve } from 'node:path'
import type { DependencyContainer } from 'tsyringe'
import {
  CLOCK, isProcessAlive, registerDefault, Server, SignalRegistry,
  type ChildState, type Clock, type OptionSpecs, type RequestContext, type SignalHandlers
} from '@net-server/core'
import { crashLoopError, notAChildError } from './errors.js'
import { preForkOptionSpecs, validatePreForkOptions, type ResolvedPreForkOptions } from './options.js'
import { nodeProcessSpawner } from './process-spawner.js'
import { PROCESS_SPAWNER, type ProcessSpawner, type SpawnRequest } from './tokens.js'

/** The environment variable that marks a pool child; its value is the parent's pid. */
export const CHILD_ENV = 'NSZ_PREFORK_CHILD'

/** After a child's `run()` has finished, the process is made to exit this much later if something still holds it open. */
const CHILD_EXIT_GRACE_MS = 1000

/** One child in the parent's tally, as {@link PreForkServer.children} reports it. */
export interface ChildInfo {
  /** The child's process id. */
  readonly pid: number
  /** `starting` until it reports ready, then `waiting` / `processing`, `exiting` once told to stop. */
  readonly state: ChildState
  /** Requests it started (`processing` transitions). */
  readonly jobs: number
  /** When it was spawned (ms since the epoch). */
  readonly startedAt: number
  /** When it reported ready, if it has. */
  readonly readyAt: number | undefined
  /** Incremented by every rolling restart (HUP); children of older generations are being replaced. */
  readonly generation: number
  /** True while it waits for its replacement to be ready (max requests reached, HUP). */
  readonly retiring: boolean
}

/** Which process a title is for. */
export type ProcessRole = 'parent' | 'child'

interface ChildRecord {
  readonly pid: number
  readonly process: ChildProcess
  state: ChildState
  jobs: number
  readonly startedAt: number
  readyAt: number | undefined
  readonly generation: number
  retiring: boolean
  stopSent: boolean
  killed: boolean
  exited: boolean
  disconnectedAt: number | undefined
  bootTimer: NodeJS.Timeout | undefined
  killTimer: NodeJS.Timeout | undefined
}

/** Messages the pool itself sends over IPC; anything else is the personality's. */
type PoolMessage =
  | { nsz: 'ready' }
  | { nsz: 'state', state: 'waiting' | 'processing' }
  | { nsz: 'retire', jobs: number }
  | { nsz: 'stop', graceful: boolean }
  | { nsz: 'reopen-log' }

function isPoolMessage (message: unknown): message is PoolMessage {
  return typeof message === 'object' && message !== null && typeof (message as { nsz?: unknown }).nsz === 'string'
}

interface Deferred {
  readonly promise: Promise<void>
  resolve: () => void
  reject: (err: Error) => void
  settled: boolean
}

function deferred (): Deferred {
  let resolveIt!: () => void
  let rejectIt!: (err: Error) => void
  const promise = new Promise<void>((resolve, reject) => { resolveIt = resolve; rejectIt = reject })
  const d: Deferred = {
    promise,
    settled: false,
    resolve: () => { d.settled = true; resolveIt() },
    reject: (err) => { d.settled = true; rejectIt(err) }
  }
  // A rejection nobody awaits yet (a crash loop before loop() awaits) is not unhandled.
  promise.catch(() => {})
  return d
}

/**
 * Net::Server::PreFork for Node: a parent that binds, then keeps a pool of child
 * processes that serve requests, sized between `minServers` and `maxServers` with
 * `minSpareServers`…`maxSpareServers` idle ones, recycled after `maxRequests`,
 * restarted on HUP and resized by TTIN / TTOU.
 *
 * Node cannot fork, so a child is a new Node process that runs the entry module
 * again (or `workerModule`) with the parent's flags, arguments and an environment
 * marker ({@link CHILD_ENV}). There the script builds the same server and calls
 * `run()`; `run()` sees it is a child and, after `configure → postConfigure →
 * postConfigureHook`, enters {@link PreForkServer.runChild} instead of binding.
 *
 * In the parent: `bind` (the personality's) runs before any child exists; `loop`
 * spawns the pool and supervises it until `close()`, driven by child exits, IPC
 * messages and three check timers. In a child: `runChild → childInitHook →
 * childConnect → reportReady → loop` (core's accept loop), each request reported to
 * the parent's tally as `processing` then `waiting`.
 *
 * A personality plugs in like this (the ZeroMQ one does):
 * - parent: `bind()` opens the sockets; the tally can be fed by the personality
 *   ({@link PreForkServer.childReportsState} false, {@link PreForkServer.setChildState});
 *   {@link PreForkServer.killChild} kills a stuck child, which is replaced as usual.
 * - child: `childConnect()` connects to the work source; `accept()` waits for the
 *   next request; `stopLoop(graceful)` makes a pending `accept()` return `undefined`.
 *   Both `bind` and `stopLoop` run in either process: test {@link PreForkServer.isChild}.
 *
 * @typeParam R - the resolved options of the concrete class
 * @typeParam Q - the per-request context of the concrete class
 */
export abstract class PreForkServer<
  R extends ResolvedPreForkOptions = ResolvedPreForkOptions,
  Q extends RequestContext = RequestContext
> extends Server<R, Q> {
  readonly #isChild = process.env[CHILD_ENV] !== undefined && typeof process.send === 'function'

  // Parent state
  readonly #children = new Map<number, ChildRecord>()
  readonly #retiring: ChildRecord[] = []
  readonly #timers: NodeJS.Timeout[] = []
  #minServers = 0
  #maxServers = 0
  #extra = 0
  #generation = 0
  #looping = false
  #started: Deferred | undefined
  #drained: Deferred | undefined
  #coordinating = false
  #coordinateAgain = false
  #bootFailures = 0
  #notBefore = 0
  #retryTimer: NodeJS.Timeout | undefined
  #lastSpawn = 0

  // Child state
  #served = 0
  #requestLimit = Number.POSITIVE_INFINITY
  #retireSent = false
  #childSignals: SignalRegistry | undefined
  readonly #onParentMessage = (message: unknown): void => { this.#parentSaid(message) }
  readonly #onParentGone = (): void => { this.#parentGone() }

  /** True in a child process of the pool, false in the parent. */
  get isChild (): boolean {
    return this.#isChild
  }

  /** A snapshot of the tally, one entry per live child (parent only; empty in a child). */
  children (): readonly ChildInfo[] {
    return [...this.#children.values()].map((c) => Object.freeze({
      pid: c.pid,
      state: c.state,
      jobs: c.jobs,
      startedAt: c.startedAt,
      readyAt: c.readyAt,
      generation: c.generation,
      retiring: c.retiring
    }))
  }

  /** The pool's bounds now: the options, as moved by TTIN / TTOU. */
  get limits (): { readonly minServers: number, readonly maxServers: number } {
    return { minServers: this.#minServers, maxServers: this.#maxServers }
  }

  // -------------------------------------------------------------------------
  // Operator actions (bound to signals in the parent)

  /**
   * Rolling restart (HUP): every child is replaced by a new one, and each old child
   * leaves only once a new one is ready. When new children fail to boot
   * `bootFailureLimit` times in a row the restart stops and the old children stay.
   */
  restartChildren (): void {
    if (!this.#supervising) return
    this.#generation++
    this.log(2, `restarting children (generation ${this.#generation})`)
    for (const child of this.#children.values()) {
      if (child.stopSent || child.retiring) continue
      if (child.readyAt === undefined) this.#stopChild(child, false)
      else this.#retire(child, 'restart')
    }
    this.#coordinate()
  }

  /** One more child (TTIN): `minServers` and `maxServers` both go up by one. */
  increaseServers (): void {
    if (!this.#supervising) return
    this.#minServers++
    this.#maxServers++
    this.#extra++
    this.log(2, `more children: minServers ${this.#minServers}, maxServers ${this.#maxServers}`)
    this.#coordinate()
  }

  /**
   * One child fewer (TTOU): `minServers` and `maxServers` both go down by one (not
   * below 0) and one child leaves, an idle one if there is one, else a busy one
   * after its current request.
   */
  decreaseServers (): void {
    if (!this.#supervising) return
    this.#minServers = Math.max(0, this.#minServers - 1)
    this.#maxServers = Math.max(0, this.#maxServers - 1)
    if (this.#extra > 0) {
      this.#extra--
    } else if (this.#tally().total > this.#minServers) {
      this.killNChildren(1, { busy: true })
    }
    this.log(2, `fewer children: minServers ${this.#minServers}, maxServers ${this.#maxServers}`)
    this.#checkStarted()
  }

  // -------------------------------------------------------------------------
  // Declarations

  protected override optionSpecs (): OptionSpecs {
    const specs = preForkOptionSpecs()
    if (!this.#isChild || specs.pidFile === undefined) return specs
    // The parent owns the pid file; a child must neither check nor write it.
    return { ...specs, pidFile: { ...specs.pidFile, validate: () => undefined } }
  }

  protected override validateOptions (options: R): void {
    super.validateOptions(options)
    validatePreForkOptions(options)
    if (options.workerModule === undefined && process.argv[1] === undefined) {
      throw new RangeError('options.workerModule must be set: this process has no entry module for the children to run')
    }
  }

  /**
   * Core's TERM / INT / USR1 plus QUIT (graceful stop), HUP (rolling restart),
   * TTIN / TTOU (one child more / fewer). A TERM or INT during a graceful stop
   * hurries it. USR1 also makes every child reopen its log.
   */
  protected override signalHandlers (): SignalHandlers {
    return {
      ...super.signalHandlers(),
      SIGTERM: () => { this.#closeFromSignal(false) },
      SIGINT: () => { this.#closeFromSignal(false) },
      SIGQUIT: () => { this.#closeFromSignal(true) },
      SIGHUP: () => { this.restartChildren() },
      SIGTTIN: () => { this.increaseServers() },
      SIGTTOU: () => { this.decreaseServers() },
      SIGUSR1: () => {
        this.reopenLog()
        for (const child of this.#children.values()) {
          if (child.readyAt !== undefined && !child.exited) this.#send(child, { nsz: 'reopen-log' })
        }
      }
    }
  }

  /** Registers the Node {@link ProcessSpawner} under {@link PROCESS_SPAWNER} unless one is registered. */
  protected override registerDefaults (container: DependencyContainer): void {
    super.registerDefaults(container)
    registerDefault(container, PROCESS_SPAWNER as symbol, () => nodeProcessSpawner)
  }

  // -------------------------------------------------------------------------
  // Phases

  /**
   * In the parent, core's `preBind → bind → … → loop`. In a child, `runChild()`
   * instead: children never bind.
   */
  protected override async serve (): Promise<void> {
    if (!this.#isChild) return await super.serve()
    if (!this.stopping) await this.runChild()
  }

  /** In a child, watches the parent from the start, then resolves options as core does. */
  protected override async configure (): Promise<void> {
    if (this.#isChild) this.#watchParent()
    await super.configure()
  }

  /**
   * Parent: starts the pool (`minServers` children) and supervises it until
   * `close()`; resolves once every child has exited, rejects when children fail to
   * boot `bootFailureLimit` times in a row before the pool first reached
   * `minServers` ready children. Child: core's accept loop.
   */
  protected override async loop (): Promise<void> {
    if (this.#isChild) return await super.loop()
    const o = this.options
    this.#setTitle(this.processTitle('parent'))
    this.#minServers = o.minServers
    this.#maxServers = o.maxServers
    this.#started = deferred()
    this.#drained = deferred()
    this.#looping = true
    this.#startTimers()
    this.log(3, `starting the pool (${o.minServers} children)`)
    this.#checkStarted()
    this.#coordinate()
    await this.#started.promise
    this.log(3, `pool running: ${this.#tally().ready} children ready`)
    await this.#drained.promise
  }

  /**
   * Parent: stops every child (graceful: after its current request, SIGKILL after
   * `gracefulTimeout`; fast: at once) and lets `loop()` return once all have exited.
   * Child: nothing here; the personality makes a pending `accept()` return
   * `undefined`. In a child it may be called a second time with `graceful` false
   * when the parent hurries a graceful stop.
   */
  protected override async stopLoop (graceful: boolean): Promise<void> {
    await super.stopLoop(graceful)
    if (this.#isChild) return
    this.#stopTimers()
    this.#started?.resolve()
    for (const child of this.#children.values()) this.#stopChild(child, graceful)
    this.#checkDrained()
  }

  /**
   * Parent: makes sure every child has exited (after a failed start too), runs
   * `postChildCleanupHook`, then core's `serverClose` (which runs
   * `preServerCloseHook`). Child: removes its signal handlers and IPC listeners and
   * closes the channel; the parent's pid file and `preServerCloseHook` are not the
   * child's.
   */
  protected override async serverClose (): Promise<void> {
    if (this.#isChild) {
      this.#childClose()
      return
    }
    this.#stopTimers()
    if (this.#children.size > 0) {
      this.#drained ??= deferred()
      for (const child of this.#children.values()) this.#stopChild(child, false)
      this.#checkDrained()
      await this.#drained.promise
    }
    this.#looping = false
    try {
      await this.postChildCleanupHook()
    } finally {
      await super.serverClose()
    }
  }

  /** In a child, reports `processing` before and `waiting` after the request, and asks to retire after `maxRequests`. */
  protected override async runClientConnection (request: Q): Promise<void> {
    if (!this.#isChild) return await super.runClientConnection(request)
    if (this.childReportsState) this.#tellParent({ nsz: 'state', state: 'processing' })
    try {
      await super.runClientConnection(request)
    } finally {
      this.#served++
      if (!this.stopping) {
        if (this.childReportsState) this.#tellParent({ nsz: 'state', state: 'waiting' })
        if (this.#served >= this.#requestLimit && !this.#retireSent) {
          this.#retireSent = true
          this.log(3, `served ${this.#served} requests: asking to be replaced`)
          this.#tellParent({ nsz: 'retire', jobs: this.#served })
        }
      }
    }
  }

  // -------------------------------------------------------------------------
  // Net::Server::PreFork's methods

  /**
   * Starts `n` children (parent): `runNChildrenHook(n)` first, then
   * `preForkHook()` before each spawn. Resolves with the new pids. The pool calls
   * it; a personality may call it to add children beyond the scaling rules.
   */
  protected async runNChildren (n: number): Promise<number[]> {
    if (n <= 0 || this.#isChild) return []
    await this.runNChildrenHook(n)
    this.log(3, `starting ${n} ${n === 1 ? 'child' : 'children'}`)
    const pids: number[] = []
    for (let i = 0; i < n && this.#supervising; i++) {
      await this.preForkHook()
      if (!this.#supervising) break
      const pid = this.#spawn()
      if (pid !== undefined) pids.push(pid)
    }
    return pids
  }

  /**
   * The child's life (Net::Server's `run_child`): signal handlers and process title,
   * `childInitHook`, `childConnect`, `reportReady`, then `loop` (core's accept loop)
   * until stopped, and `childFinishHook`. An error before `reportReady` is a boot
   * failure: `run()` rejects, the process exits, the parent respawns with backoff.
   */
  protected async runChild (): Promise<void> {
    if (!this.#isChild) throw notAChildError('runChild()')
    const o = this.options
    this.#requestLimit = o.maxRequests === 0
      ? Number.POSITIVE_INFINITY
      : o.maxRequests + (o.maxRequestsJitter > 0 ? randomInt(o.maxRequestsJitter + 1) : 0)
    process.on('message', this.#onParentMessage)
    if (o.handleSignals) this.#installChildSignals()
    this.#setTitle(this.processTitle('child'))
    await this.childInitHook()
    await this.childConnect()
    if (this.stopping) return
    await this.reportReady()
    this.log(4, 'child ready')
    try {
      await this.loop()
    } finally {
      await this.childFinishHook()
    }
  }

  /**
   * Brings the pool to its bounds (parent), as Net::Server::PreFork's
   * `coordinate_children`: spawns up to `minServers`, up to `minSpareServers` idle
   * (never past `maxServers`), and one replacement per retiring child. After a boot
   * failure it spawns one child at a time, after the backoff delay. Called on every
   * child exit, ready and state change, and every `checkForSpawn`; calls that
   * arrive while it runs are merged into one more pass. Surplus idle children are
   * stopped by the `checkForWaiting` timer, not here.
   */
  protected async coordinateChildren (): Promise<void> {
    if (this.#coordinating) {
      this.#coordinateAgain = true
      return
    }
    this.#coordinating = true
    try {
      do {
        this.#coordinateAgain = false
        if (!this.#supervising) return
        const n = this.#missing()
        if (n <= 0) continue
        const wait = this.#notBefore - this.#clock.now()
        if (wait > 0) {
          this.#retryAfter(wait)
          return
        }
        const spawned = await this.runNChildren(n)
        this.#extra = Math.max(0, this.#extra - spawned.length)
      } while (this.#coordinateAgain)
    } finally {
      this.#coordinating = false
    }
  }

  /**
   * Stops up to `n` children after their current request (parent), Net::Server's
   * `kill_n_children`: idle ones first (the oldest first), then starting ones, and
   * busy ones only with `busy: true`. Returns how many were told to stop.
   */
  protected killNChildren (n: number, options: { busy?: boolean } = {}): number {
    const rank = (c: ChildRecord): number => c.state === 'waiting' ? 0 : c.state === 'starting' ? 1 : 2
    const candidates = [...this.#children.values()]
      .filter((c) => !c.stopSent && !c.retiring && (options.busy === true || c.state !== 'processing'))
      .sort((a, b) => rank(a) - rank(b) || a.startedAt - b.startedAt)
      .slice(0, Math.max(0, n))
    for (const child of candidates) this.#stopChild(child, true)
    if (candidates.length > 0) this.log(3, `stopping ${candidates.length} ${candidates.length === 1 ? 'child' : 'children'}: ${candidates.map((c) => c.pid).join(', ')}`)
    return candidates.length
  }

  /**
   * Removes a child from the tally (parent), then runs `deleteChildHook(pid)`. The
   * pool calls it when a child has exited, or when the `checkForDead` check finds
   * it gone.
   */
  protected async deleteChild (pid: number): Promise<void> {
    const child = this.#children.get(pid)
    if (child === undefined) return
    this.#children.delete(pid)
    this.#clearChildTimers(child)
    const i = this.#retiring.indexOf(child)
    if (i !== -1) this.#retiring.splice(i, 1)
    await this.deleteChildHook(pid)
  }

  /**
   * Sends `signal` to a child (parent), e.g. to end a child stuck past a job
   * timeout. Its exit then follows the normal rules: it is replaced as needed, and
   * it never counts as a boot failure. Returns false when there is no such child.
   */
  protected killChild (pid: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const child = this.#children.get(pid)
    if (child === undefined || child.exited) return false
    child.killed = true
    this.log(2, `killing child ${pid} with ${signal}`)
    try {
      return child.process.kill(signal)
    } catch {
      return false
    }
  }

  /**
   * Sends a message (and optionally a handle: a socket, a server) to one child
   * (parent), for a personality's own protocol; the child reads it with
   * `process.on('message')`. Returns false when the child is gone.
   */
  protected sendToChild (pid: number, message: Serializable, handle?: SendHandle): boolean {
    const child = this.#children.get(pid)
    if (child === undefined || child.exited || !child.process.connected) return false
    return this.#send(child, message, handle)
  }

  /**
   * True (the default) when each child reports `processing` / `waiting` over IPC
   * around every request. A personality that knows the states itself (the ZeroMQ
   * broker's worker table) returns false and calls {@link PreForkServer.setChildState}.
   * Parent and child must agree: it must not depend on which process asks.
   */
  protected get childReportsState (): boolean {
    return true
  }

  /**
   * Records a child's state in the tally (parent) and emits `childState`; a first
   * report also marks the child ready. `processing` counts a job and may spawn
   * spare children. The pool calls it for the children's own reports; a
   * personality with `childReportsState` false calls it instead.
   */
  protected setChildState (pid: number, state: 'waiting' | 'processing'): void {
    const child = this.#children.get(pid)
    if (child === undefined || child.exited || child.stopSent || child.state === state) return
    if (child.readyAt === undefined) this.#markReady(child)
    if (child.state === state) return
    if (state === 'processing') child.jobs++
    child.state = state
    this.emit('childState', child.pid, state)
    // A busy child can only call for a spare one: skip the pass (once per job) when none is missing.
    if (state === 'processing' && this.#missing() > 0) this.#coordinate()
  }

  /**
   * The process title of the parent and of each child. Defaults to
   * `<class name> parent` / `<class name> child`; the ZeroMQ personality gives
   * `zmq broker <fport>-<bport>` / `zmq worker <bport>`.
   */
  protected processTitle (role: ProcessRole): string {
    return `${this.constructor.name} ${role}`
  }

  /**
   * Extra environment for each child (parent, at every spawn): how a personality
   * hands down what it learned at bind, such as an endpoint whose port the system
   * chose. Empty here.
   */
  protected childEnv (): Record<string, string> {
    return {}
  }

  /**
   * Connects the child to its source of work (child), after `childInitHook` and
   * before `reportReady`: the ZeroMQ worker connects its socket here. Empty here.
   */
  protected async childConnect (): Promise<void> {}

  /**
   * Tells the parent that this child takes work (child), after `childConnect` and
   * before `loop`. Until then the child is `starting`, and a child that dies or
   * exceeds `childStartTimeout` before it is a boot failure. Override to announce
   * later, calling `super.reportReady()` when ready.
   */
  protected async reportReady (): Promise<void> {
    if (!this.#isChild) throw notAChildError('reportReady()')
    this.#tellParent({ nsz: 'ready' })
  }

  /**
   * Watches a process that a hook of the parent started (not a pool child): when it
   * exits, `otherChildDiedHook(pid)` runs, as Net::Server calls it for a reaped pid
   * that is not one of its children.
   */
  protected watchOtherChild (child: ChildProcess): void {
    child.once('exit', () => {
      if (child.pid === undefined) return
      this.otherChildDiedHook(child.pid).catch((err: unknown) => { this.#failed('otherChildDiedHook failed', err) })
    })
  }

  // -------------------------------------------------------------------------
  // Hooks: no-ops for users to override

  /** Runs in the parent before each child is spawned (after `runNChildrenHook`). */
  protected async preForkHook (): Promise<void> {}

  /** Runs in the parent when `n` children are about to be spawned, before the first `preForkHook`. */
  protected async runNChildrenHook (_n: number): Promise<void> {}

  /**
   * Runs in each child first in `runChild`, after `postConfigureHook` and before
   * `childConnect`: open per-child resources here. Throwing is a boot failure.
   */
  protected async childInitHook (): Promise<void> {}

  /** Runs in each child after its request loop ended, before the child closes and exits. */
  protected async childFinishHook (): Promise<void> {}

  /**
   * Runs in the parent after every `checkForWaiting` check (the pool is
   * event-driven, so this is its periodic "idle loop").
   */
  protected async idleLoopHook (): Promise<void> {}

  /**
   * Runs in the parent for every IPC message from a child, before the pool reads
   * it; return true when the message was the personality's and the pool should
   * ignore it. `handle` is a socket or server sent along, if any. Synchronous, so
   * messages keep their order.
   */
  protected parentReadHook (_pid: number, _message: unknown, _handle?: SendHandle): boolean {
    return false
  }

  /** Runs in the parent after a child left the tally (`deleteChild`), before the pool replaces it. */
  protected async deleteChildHook (_pid: number): Promise<void> {}

  /** Runs in the parent when a process given to `watchOtherChild` exits. */
  protected async otherChildDiedHook (_pid: number): Promise<void> {}

  /**
   * Runs in the parent's `serverClose` after every child has exited, before core's
   * `preServerCloseHook` and release.
   */
  protected async postChildCleanupHook (): Promise<void> {}

  // -------------------------------------------------------------------------
  // Parent internals

  get #clock (): Clock {
    return this.container.resolve<Clock>(CLOCK)
  }

  get #supervising (): boolean {
    return this.#looping && !this.stopping && !this.#isChild
  }

  #tally (): { total: number, starting: number, waiting: number, ready: number } {
    let total = 0
    let starting = 0
    let waiting = 0
    let ready = 0
    for (const c of this.#children.values()) {
      if (c.retiring || c.stopSent) continue
      total++
      if (c.state === 'starting') starting++
      else ready++
      if (c.state === 'waiting') waiting++
    }
    return { total, starting, waiting, ready }
  }

  #missing (): number {
    const { total, starting, waiting } = this.#tally()
    let need = Math.max(
      this.#minServers - total,
      this.options.minSpareServers - waiting - starting,
      this.#retiring.length - starting,
      this.#extra
    )
    need = Math.min(need, this.#maxServers - total)
    // While children fail to boot, probe with one at a time.
    if (this.#bootFailures > 0) need = Math.min(need, 1 - starting)
    return need
  }

  #coordinate (): void {
    this.coordinateChildren().catch((err: unknown) => { this.#failed('starting children failed', err) })
  }

  #retryAfter (ms: number): void {
    if (this.#retryTimer !== undefined) return
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined
      this.#coordinate()
    }, ms)
  }

  #spawn (): number | undefined {
    const o = this.options
    const request: SpawnRequest = {
      execPath: process.execPath,
      execArgv: [...process.execArgv],
      module: resolve(o.workerModule ?? process.argv[1]!),
      args: process.argv.slice(2),
      env: { ...process.env, ...this.childEnv(), [CHILD_ENV]: String(process.pid) }
    }
    let proc: ChildProcess
    try {
      proc = this.container.resolve<ProcessSpawner>(PROCESS_SPAWNER).spawn(request)
    } catch (err) {
      this.#bootFailed(`spawn failed: ${(err as Error).message}`)
      return undefined
    }
    const pid = proc.pid
    if (pid === undefined) {
      // The spawn failed; the reason arrives as the process's error event.
      proc.once('error', (err) => {
        this.#bootFailed(`spawn failed: ${err.message}`)
        this.#coordinate()
      })
      return undefined
    }
    const now = this.#clock.now()
    const child: ChildRecord = {
      pid,
      process: proc,
      state: 'starting',
      jobs: 0,
      startedAt: now,
      readyAt: undefined,
      generation: this.#generation,
      retiring: false,
      stopSent: false,
      killed: false,
      exited: false,
      disconnectedAt: undefined,
      bootTimer: undefined,
      killTimer: undefined
    }
    child.bootTimer = this.#clock.setTimeout(() => { this.#bootTimedOut(child) }, o.childStartTimeout)
    proc.on('message', (message: unknown, handle?: SendHandle) => { this.#childSaid(child, message, handle) })
    proc.on('error', (err) => { this.log(1, `child ${pid}: ${err.message}`) })
    proc.once('disconnect', () => { child.disconnectedAt = this.#clock.now() })
    proc.once('exit', (code, signal) => { this.#childExited(child, code, signal) })
    this.#children.set(pid, child)
    this.#lastSpawn = now
    this.log(4, `child ${pid} spawned`)
    this.emit('childSpawn', pid)
    return pid
  }

  #childSaid (child: ChildRecord, message: unknown, handle?: SendHandle): void {
    if (child.exited) return
    let handled: boolean
    try {
      handled = this.parentReadHook(child.pid, message, handle)
    } catch (err) {
      this.#failed(`parentReadHook failed for child ${child.pid}`, err)
      return
    }
    if (handled || !isPoolMessage(message)) return
    switch (message.nsz) {
      case 'ready':
        this.#markReady(child)
        break
      case 'state':
        if (this.childReportsState && (message.state === 'waiting' || message.state === 'processing')) {
          this.setChildState(child.pid, message.state)
        }
        break
      case 'retire':
        this.#retire(child, `served ${message.jobs} requests`)
        break
    }
  }

  #markReady (child: ChildRecord): void {
    if (child.readyAt !== undefined || child.exited) return
    child.readyAt = this.#clock.now()
    this.#clock.clearTimeout(child.bootTimer)
    child.bootTimer = undefined
    this.#bootFailures = 0
    this.#notBefore = 0
    if (child.stopSent) return
    child.state = 'waiting'
    this.log(4, `child ${child.pid} ready`)
    this.emit('childReady', child.pid)
    this.emit('childState', child.pid, 'waiting')
    // A new child is ready: one that waits for its replacement may leave now.
    const old = this.#retiring.shift()
    if (old !== undefined) this.#stopChild(old, true)
    this.#checkStarted()
    this.#coordinate()
  }

  #retire (child: ChildRecord, reason: string): void {
    if (child.retiring || child.stopSent || !this.#supervising) return
    child.retiring = true
    this.#retiring.push(child)
    this.log(3, `child ${child.pid} is replaced (${reason}); it leaves once its replacement is ready`)
    this.#coordinate()
  }

  #stopChild (child: ChildRecord, graceful: boolean): void {
    if (child.exited) return
    const i = this.#retiring.indexOf(child)
    if (i !== -1) this.#retiring.splice(i, 1)
    if (child.stopSent) {
      // A graceful stop already under way: hurry it.
      if (!graceful && child.readyAt !== undefined) this.#send(child, { nsz: 'stop', graceful: false })
      return
    }
    child.stopSent = true
    child.state = 'exiting'
    this.emit('childState', child.pid, 'exiting')
    if (child.readyAt === undefined || !child.process.connected) {
      // It may not listen to IPC yet: a signal stops it whatever it is doing.
      this.#signal(child, 'SIGTERM')
    } else {
      this.#send(child, { nsz: 'stop', graceful })
    }
    child.killTimer = this.#clock.setTimeout(() => {
      this.log(1, `child ${child.pid} did not stop within ${this.options.gracefulTimeout} ms: killing it`)
      this.#signal(child, 'SIGKILL')
    }, this.options.gracefulTimeout)
  }

  #send (child: ChildRecord, message: Serializable, handle?: SendHandle): boolean {
    try {
      return child.process.send(message, handle, (err) => {
        if (err !== null && !child.exited) this.log(3, `cannot write to child ${child.pid}: ${err.message}`)
      })
    } catch (err) {
      this.log(3, `cannot write to child ${child.pid}: ${(err as Error).message}`)
      return false
    }
  }

  #signal (child: ChildRecord, signal: NodeJS.Signals): void {
    try {
      child.process.kill(signal)
    } catch {
      // Already gone: its exit event follows.
    }
  }

  #childExited (child: ChildRecord, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.exited) return
    child.exited = true
    const how = signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`
    const bootFailure = child.readyAt === undefined && !child.stopSent && !child.killed
    this.#forget(child)
    this.emit('childExit', child.pid, code, signal)
    if (child.stopSent) {
      this.log(3, `child ${child.pid} stopped (${how})`)
    } else if (bootFailure) {
      this.#bootFailed(`child ${child.pid} exited during boot (${how})`)
    } else {
      this.log(1, `child ${child.pid} died (${how}); replacing it`)
    }
    this.#checkDrained()
    this.#coordinate()
  }

  #forget (child: ChildRecord): void {
    this.deleteChild(child.pid).catch((err: unknown) => { this.#failed('deleteChildHook failed', err) })
  }

  #bootTimedOut (child: ChildRecord): void {
    child.bootTimer = undefined
    if (child.exited || child.readyAt !== undefined || child.stopSent) return
    child.killed = true
    this.#bootFailed(`child ${child.pid} did not report ready within ${this.options.childStartTimeout} ms; killed`)
    this.#signal(child, 'SIGKILL')
  }

  #bootFailed (detail: string): void {
    const o = this.options
    this.#bootFailures++
    const delay = Math.min(o.bootBackoffBase * 2 ** (this.#bootFailures - 1), o.bootBackoffMax)
    this.#notBefore = this.#clock.now() + delay
    this.log(1, `${detail}; next child in ${delay} ms (boot failure ${this.#bootFailures} of ${o.bootFailureLimit} in a row)`)
    if (this.#bootFailures < o.bootFailureLimit) return
    const err = crashLoopError(o.bootFailureLimit, detail)
    if (this.#started !== undefined && !this.#started.settled) {
      this.#started.reject(err)
      return
    }
    if (this.#retiring.length > 0) {
      for (const old of this.#retiring) old.retiring = false
      this.#retiring.length = 0
      this.log(0, 'restart abandoned: new children fail to boot; the old children keep serving')
    }
    if (this.#bootFailures === o.bootFailureLimit) {
      this.log(0, err.message)
      this.emit('error', err)
    }
  }

  #checkStarted (): void {
    if (this.#started === undefined || this.#started.settled) return
    if (this.#tally().ready >= this.#minServers) this.#started.resolve()
  }

  #checkDrained (): void {
    if (this.stopping && this.#children.size === 0) this.#drained?.resolve()
  }

  #clearChildTimers (child: ChildRecord): void {
    this.#clock.clearTimeout(child.bootTimer)
    this.#clock.clearTimeout(child.killTimer)
    child.bootTimer = undefined
    child.killTimer = undefined
  }

  #startTimers (): void {
    const o = this.options
    const clock = this.#clock
    this.#timers.push(
      clock.setInterval(() => { this.#checkForDead() }, o.checkForDead),
      clock.setInterval(() => { this.#checkForWaiting() }, o.checkForWaiting),
      clock.setInterval(() => { this.#coordinate() }, o.checkForSpawn)
    )
  }

  #stopTimers (): void {
    for (const timer of this.#timers) this.#clock.clearInterval(timer)
    this.#timers.length = 0
    this.#clock.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
  }

  #checkForDead (): void {
    for (const child of this.#children.values()) {
      if (child.exited) continue
      if (!isProcessAlive(child.pid)) {
        this.log(1, `child ${child.pid} is gone without an exit status`)
        child.exited = true
        this.#forget(child)
        this.emit('childExit', child.pid, null, null)
      } else if (child.disconnectedAt !== undefined && !child.stopSent &&
        this.#clock.now() - child.disconnectedAt >= this.options.checkForDead) {
        // A child closes its channel just before it exits; one that stays is out of control.
        this.log(1, `child ${child.pid} lost its IPC channel and did not exit: killing it`)
        child.killed = child.readyAt !== undefined
        this.#signal(child, 'SIGKILL')
      }
    }
    this.#checkDrained()
    this.#coordinate()
  }

  #checkForWaiting (): void {
    if (!this.#supervising) return
    const { total, waiting } = this.#tally()
    const o = this.options
    if (total > this.#maxServers) {
      this.killNChildren(total - this.#maxServers, { busy: true })
    } else if (waiting > o.maxSpareServers && total > this.#minServers &&
      this.#clock.now() - this.#lastSpawn >= o.minChildTtl) {
      this.killNChildren(Math.min(waiting - o.maxSpareServers, total - this.#minServers))
    }
    this.idleLoopHook().catch((err: unknown) => { this.#failed('idleLoopHook failed', err) })
  }

  #closeFromSignal (graceful: boolean): void {
    if (this.stopping && !graceful) {
      for (const child of this.#children.values()) this.#stopChild(child, false)
    }
    this.close({ graceful }).catch((err: unknown) => { this.#failed('close failed', err) })
  }

  #failed (message: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    this.log(0, `${message}: ${error.message}`)
    this.emit('error', error)
  }

  #setTitle (title: string): void {
    try {
      process.title = title
    } catch {
      // Some platforms refuse; the title is cosmetic.
    }
  }

  // -------------------------------------------------------------------------
  // Child internals

  #tellParent (message: PoolMessage): void {
    if (process.send === undefined || !process.connected) return
    process.send(message, undefined, undefined, (err: Error | null) => {
      if (err !== null) this.log(3, `cannot write to the parent: ${err.message}`)
    })
  }

  #parentSaid (message: unknown): void {
    if (!isPoolMessage(message)) return
    if (message.nsz === 'stop') {
      if (this.stopping) {
        if (!message.graceful) {
          this.stopLoop(false).catch((err: unknown) => { this.#failed('stop failed', err) })
        }
        return
      }
      this.log(3, `told to stop (${message.graceful ? 'graceful' : 'fast'})`)
      this.close({ graceful: message.graceful }).catch((err: unknown) => { this.#failed('stop failed', err) })
    } else if (message.nsz === 'reopen-log') {
      this.reopenLog()
    }
  }

  #watchParent (): void {
    process.once('disconnect', this.#onParentGone)
    if (!process.connected) this.#parentGone()
  }

  #parentGone (): void {
    process.off('disconnect', this.#onParentGone)
    let grace = 30_000
    try {
      grace = this.options.gracefulTimeout
    } catch {
      // Options are not resolved yet: keep the default.
    }
    // Work in flight has nobody to report to; stop fast. Nobody is left to kill
    // this process if the stop hangs, so it ends itself after gracefulTimeout.
    this.log(1, 'the parent is gone: stopping')
    setTimeout(() => process.exit(1), grace).unref()
    this.close({ graceful: false }).catch(() => {})
  }

  #installChildSignals (): void {
    const ignore = (): void => {}
    this.#childSignals = new SignalRegistry((signal, err) => { this.#failed(`signal ${signal} failed`, err) })
    // Signals sent to the whole process group are the parent's to act on.
    this.#childSignals.install({
      SIGINT: ignore,
      SIGQUIT: ignore,
      SIGHUP: ignore,
      SIGTTIN: ignore,
      SIGTTOU: ignore,
      SIGUSR1: () => { this.reopenLog() },
      SIGTERM: () => { this.close().catch(() => {}) }
    })
  }

  #childClose (): void {
    this.#childSignals?.uninstall()
    process.off('message', this.#onParentMessage)
    process.off('disconnect', this.#onParentGone)
    if (process.connected) process.disconnect()
    setTimeout(() => process.exit(), CHILD_EXIT_GRACE_MS).unref()
    this.log(3, `child stopped after ${this.#served} requests`)
    this.emit('close')
  }
}
