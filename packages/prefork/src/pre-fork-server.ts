import type { Serializable, SendHandle } from 'node:child_process'
import { CLOCK, type Clock, type RequestContext, type SignalHandlers } from '@net-server/core'
import { spawnWait } from './boot-backoff.js'
import { ChildRuntime, type ChildHost } from './child-runtime.js'
import { setTitle } from './pool-child.js'
import { notAChildError } from './errors.js'
import type { ResolvedPreForkOptions } from './options.js'
import type { ChildInfo } from './pool-child.js'
import { PoolSize, type PoolSizeHost } from './pool-size.js'
import { PreForkBase } from './pre-fork-base.js'
import { pickChildrenToStop } from './scaling.js'
import { Supervisor, type SupervisorHost } from './supervisor.js'
import { PROCESS_SPAWNER, type ProcessSpawner } from './tokens.js'

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
> extends PreForkBase<R, Q> {
  /** The child's side: its IPC to the parent, its signals, retiring; undefined in the parent. */
  readonly #child: ChildRuntime | undefined = this.isChild ? new ChildRuntime(this.#childHost()) : undefined
  /** The parent's side: the child table, spawning, stopping, the timers; stays empty in a child. */
  readonly #pool = new Supervisor(this.#supervisorHost())
  /** The parent's bounds and the scaling rules' answers; unused in a child. */
  readonly #size = new PoolSize(this.#sizeHost(), this.#pool)
  #looping = false
  #coordinating = false
  #coordinateAgain = false
  #bootstrapData: unknown

  /** A snapshot of the tally, one entry per live child (parent only; empty in a child). */
  children (): readonly ChildInfo[] {
    return this.#pool.snapshot()
  }

  /** In a child: asks to be replaced, saying why (a replacement starts, then this child stops gracefully). */
  protected askToRetire (reason: string): void {
    this.#child?.retire(reason)
  }

  /** In a child: tells the parent that its event loop runs, busy or not (`childAlive`), for a watchdog of blocked children. */
  protected reportAlive (busy = true): void {
    this.#child?.tell({ nsz: 'alive', busy })
  }

  /**
   * In a child that reports its state: how many requests it runs at once. It counts
   * as `processing` (busy, for the spare-server rules) only while all of them are
   * taken, `waiting` while it can take one more. 1 here; a personality that runs
   * several at once says how many.
   */
  protected get childSlots (): number {
    return 1
  }

  /**
   * In a child: the requests it may still start before `maxRequests` (with its
   * jitter) has it replaced; infinite without a limit, and in the parent. A
   * personality that runs several requests at once stops taking new ones at 0.
   */
  protected get requestsLeft (): number {
    return this.#child?.requestsLeft ?? Number.POSITIVE_INFINITY
  }

  /**
   * In a child, from `childInitHook` on: the data its parent's `childBootstrap(pid)`
   * returned for it, handed over IPC (`null` when the parent had none). `undefined` in
   * the parent and before the child asked.
   */
  protected get bootstrapData (): unknown {
    return this.#bootstrapData
  }

  /**
   * Parent, for a personality with a queue: a request began to wait. With `scaleUpWait`,
   * the pool watches `queueWait()` until nothing waits, and grows when it passes `scaleUpWait`.
   */
  protected requestWaiting (): void {
    this.#size.waiting()
  }

  /** The pool's bounds now: the options, as moved by TTIN / TTOU. */
  get limits (): { readonly minServers: number, readonly maxServers: number } {
    const { minServers, maxServers } = this.#size.bounds
    return { minServers, maxServers }
  }

  /** Rolling restarts (HUP, {@link restartChildren}) begun in the parent so far; 0 in a child. */
  get generation (): number {
    return this.#pool.generation
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
    this.#pool.restartAll()
    this.#coordinate()
  }

  /** One more child (TTIN): `minServers` and `maxServers` both go up by one. */
  increaseServers (): void {
    if (!this.#supervising) return
    const bounds = this.#size.raise()
    this.log(2, `more children: minServers ${bounds.minServers}, maxServers ${bounds.maxServers}`)
    this.#coordinate()
  }

  /**
   * One child fewer (TTOU): `minServers` and `maxServers` both go down by one (not
   * below 0) and one child leaves, an idle one if there is one, else a busy one
   * after its current request.
   */
  decreaseServers (): void {
    if (!this.#supervising) return
    const { bounds, stop } = this.#size.lower()
    if (stop > 0) this.killNChildren(stop, { busy: true })
    this.log(2, `fewer children: minServers ${bounds.minServers}, maxServers ${bounds.maxServers}`)
    this.#size.checkStarted()
  }

  // -------------------------------------------------------------------------
  // Declarations

  /**
   * Core's TERM / INT / USR1 plus QUIT (graceful stop), HUP (rolling restart),
   * TTIN / TTOU (one child more / fewer). A TERM or INT during a graceful stop
   * hurries it. USR1 also makes every child reopen its log, a child still booting
   * included.
   *
   * The children's signals derive from this one table: a child ignores every
   * signal in it except TERM (a fast stop of that child) and USR1 (reopen its log),
   * so a signal a subclass adds here never reaches a child unhandled.
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
        this.#pool.reopenLogs()
      }
    }
  }

  // -------------------------------------------------------------------------
  // Phases

  /**
   * In the parent, core's `preBind → bind → … → loop`. In a child, `runChild()`
   * instead: children never bind.
   */
  protected override async serve (): Promise<void> {
    if (!this.isChild) return await super.serve()
    if (!this.stopping) await this.runChild()
  }

  /** In a child, watches the parent from the start, then resolves options as core does. */
  protected override async configure (): Promise<void> {
    this.#child?.watchParent()
    await super.configure()
  }

  /**
   * Parent: starts the pool (`minServers` children) and supervises it until
   * `close()`; resolves once every child has exited, rejects when children fail to
   * boot `bootFailureLimit` times in a row before the pool first reached
   * `minServers` ready children. Child: core's accept loop.
   */
  protected override async loop (): Promise<void> {
    if (this.isChild) return await super.loop()
    const o = this.options
    setTitle(this.processTitle('parent'))
    const started = this.#size.start()
    const drained = this.#size.drained()
    this.#looping = true
    this.#pool.startTimers(() => { this.#checkForWaiting() })
    this.log(3, `starting the pool (${o.minServers} children)`)
    this.#size.checkStarted()
    this.#coordinate()
    await started
    this.log(3, `pool running: ${this.#pool.tally().ready} children ready`)
    await drained
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
    if (this.isChild) return
    this.#pool.stopTimers()
    this.#size.stop()
    this.#pool.stopAll(graceful)
    this.#size.checkDrained(this.stopping)
  }

  /**
   * Parent: makes sure every child has exited (after a failed start too), runs
   * `postChildCleanupHook`, then core's `serverClose` (which runs
   * `preServerCloseHook`). Child: removes its signal handlers and IPC listeners and
   * closes the channel; the parent's pid file and `preServerCloseHook` are not the
   * child's.
   */
  protected override async serverClose (): Promise<void> {
    if (this.#child !== undefined) {
      this.#child.close()
      this.log(3, `child stopped after ${this.#child.served} requests`)
      this.emit('close')
      return
    }
    this.#pool.stopTimers()
    this.#size.closeScaler()
    if (this.#pool.size > 0) {
      const drained = this.#size.drained()
      this.#pool.stopAll(false)
      this.#size.checkDrained(this.stopping)
      await drained
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
    if (this.#child === undefined) return await super.runClientConnection(request)
    await this.#child.runRequest(this.childReportsState, () => super.runClientConnection(request), this.childSlots)
  }

  // -------------------------------------------------------------------------
  // Net::Server::PreFork's methods

  /**
   * Starts `n` children (parent): `runNChildrenHook(n)` first, then
   * `preForkHook()` before each spawn. Resolves with the new pids. The pool calls
   * it; a personality may call it to add children beyond the scaling rules.
   */
  protected async runNChildren (n: number): Promise<number[]> {
    if (n <= 0 || this.isChild) return []
    await this.runNChildrenHook(n)
    this.log(3, `starting ${n} ${n === 1 ? 'child' : 'children'}`)
    const pids: number[] = []
    for (let i = 0; i < n && this.#supervising; i++) {
      await this.preForkHook()
      if (!this.#supervising) break
      const pid = this.#pool.spawn()
      if (pid !== undefined) pids.push(pid)
    }
    return pids
  }

  /**
   * The child's life (Net::Server's `run_child`): signal handlers, the bootstrap data
   * from the parent (`bootstrapData`), process title, `childInitHook`, `childConnect`,
   * `reportReady`, then `loop` (core's accept loop) until stopped, and
   * `childFinishHook`. An error before `reportReady` is a boot failure: `run()`
   * rejects, the process exits, the parent respawns with backoff.
   */
  protected async runChild (): Promise<void> {
    if (this.#child === undefined) throw notAChildError('runChild()')
    this.#child.start(this.signalHandlers())
    this.#bootstrapData = await this.#child.bootstrap()
    if (this.stopping) return
    setTitle(this.processTitle('child'))
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
        const n = this.#size.missing()
        if (n <= 0) continue
        const wait = spawnWait(this.#pool.boot, this.#clock.now())
        if (wait > 0) {
          this.#pool.retryAfter(wait)
          return
        }
        const spawned = await this.runNChildren(n)
        this.#size.spawned(spawned.length)
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
    const candidates = pickChildrenToStop(this.#pool.records(), n, options.busy === true)
    for (const child of candidates) this.#pool.stop(child, true)
    if (candidates.length > 0) this.log(3, `stopping ${candidates.length} ${candidates.length === 1 ? 'child' : 'children'}: ${candidates.map((c) => c.pid).join(', ')}`)
    return candidates.length
  }

  /**
   * Removes a child from the tally (parent), then runs `deleteChildHook(pid)`. The
   * pool calls it when a child has exited, or when the `checkForDead` check finds
   * it gone.
   */
  protected async deleteChild (pid: number): Promise<void> {
    if (!this.#pool.remove(pid)) return
    await this.deleteChildHook(pid)
  }

  /**
   * Sends `signal` to a child (parent), e.g. to end a child stuck past a job
   * timeout. Its exit then follows the normal rules: it is replaced as needed, and
   * it never counts as a boot failure. Returns false when there is no such child.
   */
  protected killChild (pid: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    if (this.#pool.get(pid) === undefined) return false
    this.log(2, `killing child ${pid} with ${signal}`)
    return this.#pool.kill(pid, signal)
  }

  /**
   * Sends a message (and optionally a handle: a socket, a server) to one child
   * (parent), for a personality's own protocol; the child reads it with
   * `process.on('message')`. Returns false when the child is gone.
   */
  protected sendToChild (pid: number, message: Serializable, handle?: SendHandle): boolean {
    return this.#pool.sendTo(pid, message, handle)
  }

  /**
   * Records a child's state in the tally (parent) and emits `childState`; a first
   * report also marks the child ready. `processing` counts a job and may spawn
   * spare children. The pool calls it for the children's own reports; a
   * personality with `childReportsState` false calls it instead.
   */
  protected setChildState (pid: number, state: 'waiting' | 'processing'): void {
    const child = this.#pool.get(pid)
    if (child === undefined || !this.#pool.setState(child, state)) return
    // A busy child can only call for a spare one: skip the pass (once per job) when none is missing.
    if (state === 'processing' && this.#size.missing() > 0) this.#coordinate()
  }

  /**
   * Tells the parent that this child takes work (child), after `childConnect` and
   * before `loop`. Until then the child is `starting`, and a child that dies or
   * exceeds `childStartTimeout` before it is a boot failure. Override to announce
   * later, calling `super.reportReady()` when ready.
   */
  protected async reportReady (): Promise<void> {
    if (this.#child === undefined) throw notAChildError('reportReady()')
    this.#child.tell({ nsz: 'ready' })
  }

  // -------------------------------------------------------------------------
  // Internals

  get #clock (): Clock {
    return this.container.resolve<Clock>(CLOCK)
  }

  get #supervising (): boolean {
    return this.#looping && !this.stopping && !this.isChild
  }

  #coordinate (): void {
    this.coordinateChildren().catch((err: unknown) => { this.#failed('starting children failed', err) })
  }

  /** Every `checkForWaiting`: stops the surplus children, then runs `idleLoopHook`. */
  #checkForWaiting (): void {
    if (!this.#supervising) return
    const order = this.#size.surplus()
    if (order.count > 0) this.killNChildren(order.count, { busy: order.busy })
    this.idleLoopHook().catch((err: unknown) => { this.#failed('idleLoopHook failed', err) })
  }

  #closeFromSignal (graceful: boolean): void {
    if (this.stopping && !graceful) this.#pool.stopAll(false)
    this.close({ graceful }).catch((err: unknown) => { this.#failed('close failed', err) })
  }

  #failed (message: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err))
    this.log(0, `${message}: ${error.message}`)
    this.emit('error', error)
  }

  #supervisorHost (): SupervisorHost {
    return {
      options: () => this.options,
      clock: () => this.#clock,
      spawner: () => this.container.resolve<ProcessSpawner>(PROCESS_SPAWNER),
      supervising: () => this.#supervising,
      log: (level, message) => { this.log(level, message) },
      emit: this.emit.bind(this),
      failed: (message, err) => { this.#failed(message, err) },
      childEnv: () => this.childEnv(),
      childBootstrap: (pid) => this.childBootstrap(pid),
      readMessage: (pid, message, handle) => this.parentReadHook(pid, message, handle),
      stateReported: (pid, state) => { if (this.childReportsState) this.setChildState(pid, state) },
      deleteChild: (pid) => { this.deleteChild(pid).catch((err: unknown) => { this.#failed('deleteChildHook failed', err) }) },
      changed: () => {
        this.#size.checkStarted()
        this.#size.checkDrained(this.stopping)
        this.#coordinate()
      },
      startFailed: (err) => this.#size.startFailed(err)
    }
  }

  /** The supervisor's host, and the queue's wait for the growth it may call for. */
  #sizeHost (): PoolSizeHost {
    return { ...this.#supervisorHost(), queueWait: () => this.queueWait(), coordinate: () => { this.#coordinate() } }
  }

  #childHost (): ChildHost {
    return {
      stopping: () => this.stopping,
      options: () => this.options,
      log: (level, message) => { this.log(level, message) },
      reopenLog: () => { this.reopenLog() },
      close: async (graceful) => { await this.close({ graceful }) },
      hurry: async () => { await this.stopLoop(false) },
      failed: (message, err) => { this.#failed(message, err) }
    }
  }
}
