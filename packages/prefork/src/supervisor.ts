/**
 * The parent's side of the pool (Net::Server's `run_parent`): the child table,
 * spawning, a child's messages, readiness and exit, stopping and killing, boot
 * failures, and the parent's timers. It decides nothing about the pool's size: the
 * scaling rules do, and the server acts on them through it. It never loads the
 * child's runtime.
 */
import type { ChildProcess, Serializable, SendHandle } from 'node:child_process'
import { resolve } from 'node:path'
import { isProcessAlive, type Clock, type LogLevel, type NszError, type Server } from '@net-server/core'
import { afterBootFailure, crashLoop, NO_BOOT_FAILURE, type BootBackoff } from './boot-backoff.js'
import { crashLoopError } from './errors.js'
import { CHILD_ENV, CHILD_LINGER_LIMIT_MS, isPoolMessage } from './ipc.js'
import type { ResolvedPreForkOptions } from './options.js'
import { PoolChild, type ChildInfo } from './pool-child.js'
import { countChildren, type PoolTally } from './scaling.js'
import type { ProcessSpawner, SpawnRequest } from './tokens.js'

/** What the supervisor asks of its server. */
export interface SupervisorHost {
  /** The resolved options. */
  options (): ResolvedPreForkOptions
  /** The clock of the server's container. */
  clock (): Clock
  /** The spawner of the server's container. */
  spawner (): ProcessSpawner
  /** True while the pool runs and is not stopping: children may be started and retired. */
  supervising (): boolean
  log (level: LogLevel, message: string): void
  /** The server's `emit`. */
  emit: Server['emit']
  /** Reports a failure that no caller can receive (log and `error` event). */
  failed (message: string, err: unknown): void
  /** Extra environment for a child (the server's `childEnv()`). */
  childEnv (): Record<string, string>
  /** The bootstrap data of one child (the server's `childBootstrap(pid)`); `undefined` for none. */
  childBootstrap (pid: number): Serializable | undefined
  /** The server's `parentReadHook`: true when the message was the personality's. */
  readMessage (pid: number, message: unknown, handle?: SendHandle): boolean
  /** A child reported its state over IPC. */
  stateReported (pid: number, state: 'waiting' | 'processing'): void
  /** Takes an exited child out of the table (the server's `deleteChild`). */
  deleteChild (pid: number): void
  /** The pool changed (a child became ready, left, or cannot be spawned): re-check it. */
  changed (): void
  /**
   * Boot failures reached `bootFailureLimit` in a row while the pool starts: true
   * when a starting `run()` took the error. Otherwise the supervisor reports it.
   */
  startFailed (err: NszError): boolean
}

/** The parent's child table and everything that drives a child's life. */
export class Supervisor {
  readonly #host: SupervisorHost
  readonly #children = new Map<number, PoolChild>()
  /** Children that wait for a replacement, oldest first: each new ready child lets one go. */
  readonly #retiring: PoolChild[] = []
  readonly #timers: NodeJS.Timeout[] = []
  #retryTimer: NodeJS.Timeout | undefined
  #generation = 0
  #lastSpawn = 0
  #boot: BootBackoff = NO_BOOT_FAILURE
  /** How many times the children were told to reopen their logs (USR1). */
  #logReopens = 0

  constructor (host: SupervisorHost) {
    this.#host = host
  }

  /** Children in the table, exited ones not yet removed included. */
  get size (): number {
    return this.#children.size
  }

  /** When the last child was spawned (the clock's ms). */
  get lastSpawn (): number {
    return this.#lastSpawn
  }

  /** The boot back-off state: failures in a row and the earliest next spawn. */
  get boot (): BootBackoff {
    return this.#boot
  }

  /** The live child with this pid, if any. */
  get (pid: number): PoolChild | undefined {
    const child = this.#children.get(pid)
    return child === undefined || child.exited ? undefined : child
  }

  /** Every child in the table. */
  records (): IterableIterator<PoolChild> {
    return this.#children.values()
  }

  /** A frozen snapshot of every child. */
  snapshot (): ChildInfo[] {
    return [...this.#children.values()].map((c) => c.info())
  }

  /** The tally the scaling rules read. */
  tally (): PoolTally {
    return countChildren(this.#children.values())
  }

  /**
   * Spawns one child through the spawner, with the child marker in its
   * environment, and starts its boot timer. Returns its pid, or undefined when the
   * spawn failed (a boot failure).
   */
  spawn (): number | undefined {
    const host = this.#host
    const o = host.options()
    const request: SpawnRequest = {
      execPath: process.execPath,
      execArgv: [...process.execArgv],
      module: resolve(o.workerModule ?? process.argv[1]!),
      args: process.argv.slice(2),
      env: { ...process.env, ...host.childEnv(), [CHILD_ENV]: String(process.pid) }
    }
    let proc: ChildProcess
    try {
      proc = host.spawner().spawn(request)
    } catch (err) {
      this.#bootFailed(`spawn failed: ${(err as Error).message}`)
      return undefined
    }
    const pid = proc.pid
    if (pid === undefined) {
      // The spawn failed; the reason arrives as the process's error event.
      proc.once('error', (err) => {
        this.#bootFailed(`spawn failed: ${err.message}`)
        host.changed()
      })
      return undefined
    }
    const now = host.clock().now()
    const child = new PoolChild(pid, proc, now, this.#generation)
    child.logReopens = this.#logReopens
    child.bootTimer = host.clock().setTimeout(() => { this.#bootTimedOut(child) }, o.childStartTimeout)
    proc.on('message', (message: unknown, handle?: SendHandle) => { this.#childSaid(child, message, handle) })
    proc.on('error', (err) => { host.log(1, `child ${pid}: ${err.message}`) })
    proc.once('disconnect', () => { child.disconnectedAt = host.clock().now() })
    proc.once('exit', (code, signal) => { this.#childExited(child, code, signal) })
    this.#children.set(pid, child)
    this.#lastSpawn = now
    host.log(4, `child ${pid} spawned`)
    host.emit('childSpawn', pid)
    return pid
  }

  /** Records a state in the tally; false when nothing changed. A first state marks the child ready. */
  setState (child: PoolChild, state: 'waiting' | 'processing'): boolean {
    if (child.stopSent || child.state === state) return false
    if (child.readyAt === undefined) this.#markReady(child)
    if (child.state === state) return false
    if (state === 'processing') child.jobs++
    child.state = state
    this.#host.emit('childState', child.pid, state)
    return true
  }

  /** Rolling restarts (HUP) begun so far: the generation of the children started now. */
  get generation (): number {
    return this.#generation
  }

  /**
   * Starts a new generation (HUP): every ready child retires, every booting one
   * stops at once.
   */
  restartAll (): void {
    this.#generation++
    this.#host.log(2, `restarting children (generation ${this.#generation})`)
    for (const child of this.#children.values()) {
      if (child.stopSent || child.retiring) continue
      if (child.readyAt === undefined) this.stop(child, false)
      else this.#retire(child, 'restart')
    }
  }

  /**
   * Tells a child to stop (graceful: after its current request), by IPC once it
   * listens, else by SIGTERM, and kills it after `gracefulTimeout`. A fast stop
   * hurries a graceful one under way.
   */
  stop (child: PoolChild, graceful: boolean): void {
    if (child.exited) return
    this.#unqueue(child)
    if (child.stopSent) {
      if (!graceful && child.readyAt !== undefined) this.#send(child, { nsz: 'stop', graceful: false })
      return
    }
    const host = this.#host
    child.stopSent = true
    child.state = 'exiting'
    host.emit('childState', child.pid, 'exiting')
    if (child.readyAt === undefined || !child.process.connected) {
      // It may not listen to IPC yet: a signal stops it whatever it is doing.
      child.signal('SIGTERM')
    } else {
      this.#send(child, { nsz: 'stop', graceful })
    }
    child.killTimer = host.clock().setTimeout(() => {
      host.log(1, `child ${child.pid} did not stop within ${host.options().gracefulTimeout} ms: killing it`)
      child.signal('SIGKILL')
    }, host.options().gracefulTimeout)
  }

  /** Stops every child. */
  stopAll (graceful: boolean): void {
    for (const child of this.#children.values()) this.stop(child, graceful)
  }

  /** Sends `signal` to a live child; its exit never counts as a boot failure. False when there is none. */
  kill (pid: number, signal: NodeJS.Signals): boolean {
    const child = this.get(pid)
    if (child === undefined) return false
    child.killed = true
    try {
      return child.process.kill(signal)
    } catch {
      return false
    }
  }

  /** Sends a message (and a handle) to a live, connected child; false when it is gone. */
  sendTo (pid: number, message: Serializable, handle?: SendHandle): boolean {
    const child = this.get(pid)
    if (child === undefined || !child.process.connected) return false
    return this.#send(child, message, handle)
  }

  /**
   * Tells every child to reopen its log (USR1), booting ones too: a child that has
   * asked for its bootstrap data listens to the parent and is told now; one that has
   * not yet may have opened the moved file already, and is told when it asks.
   */
  reopenLogs (): void {
    this.#logReopens++
    for (const child of this.#children.values()) {
      if (child.listening) this.#tellReopen(child)
    }
  }

  /** Takes a child out of the table and clears its timers; false when it was not there. */
  remove (pid: number): boolean {
    const child = this.#children.get(pid)
    if (child === undefined) return false
    this.#children.delete(pid)
    child.clearTimers(this.#host.clock())
    this.#unqueue(child)
    return true
  }

  /**
   * Starts the parent's checks: `checkForDead` here, `checkForWaiting` calls
   * `onWaiting`, `checkForSpawn` runs the scaling rules.
   */
  startTimers (onWaiting: () => void): void {
    const clock = this.#host.clock()
    const o = this.#host.options()
    this.#timers.push(
      clock.setInterval(() => { this.#checkForDead() }, o.checkForDead),
      clock.setInterval(onWaiting, o.checkForWaiting),
      clock.setInterval(() => { this.#host.changed() }, o.checkForSpawn)
    )
  }

  /** Stops the checks and a pending retry. */
  stopTimers (): void {
    const clock = this.#host.clock()
    for (const timer of this.#timers) clock.clearInterval(timer)
    this.#timers.length = 0
    clock.clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
  }

  /** Runs the scaling rules again in `ms` (after a boot back-off), once however often asked. */
  retryAfter (ms: number): void {
    if (this.#retryTimer !== undefined) return
    this.#retryTimer = this.#host.clock().setTimeout(() => {
      this.#retryTimer = undefined
      this.#host.changed()
    }, ms)
  }

  /**
   * Marks a child ready (its `ready` message, or a first state a personality
   * reports): the boot failure streak ends, and the oldest retiring child, if any,
   * may leave now.
   */
  #markReady (child: PoolChild): void {
    if (child.readyAt !== undefined || child.exited) return
    const host = this.#host
    child.readyAt = host.clock().now()
    host.clock().clearTimeout(child.bootTimer)
    child.bootTimer = undefined
    this.#boot = NO_BOOT_FAILURE
    if (child.stopSent) return
    child.state = 'waiting'
    host.log(4, `child ${child.pid} ready`)
    host.emit('childReady', child.pid)
    host.emit('childState', child.pid, 'waiting')
    const old = this.#retiring.shift()
    if (old !== undefined) this.stop(old, true)
    host.changed()
  }

  /** Marks a child to be replaced: it keeps serving until a new child is ready. */
  #retire (child: PoolChild, reason: string): void {
    if (child.retiring || child.stopSent || !this.#host.supervising()) return
    child.retiring = true
    this.#retiring.push(child)
    this.#host.log(3, `child ${child.pid} is replaced (${reason}); it leaves once its replacement is ready`)
    this.#host.changed()
  }

  /** Gives up a rolling restart: retiring children keep serving. False when none was under way. */
  #abandonRestart (): boolean {
    if (this.#retiring.length === 0) return false
    for (const old of this.#retiring) old.retiring = false
    this.#retiring.length = 0
    return true
  }

  #unqueue (child: PoolChild): void {
    const i = this.#retiring.indexOf(child)
    if (i !== -1) this.#retiring.splice(i, 1)
  }

  #childSaid (child: PoolChild, message: unknown, handle?: SendHandle): void {
    if (child.exited) return
    const host = this.#host
    // The bootstrap request is the pool's own: it never reaches parentReadHook, so that
    // no hook can keep a child from booting.
    if (isPoolMessage(message) && message.nsz === 'boot') {
      child.listening = true
      this.#sendBootstrap(child)
      // A USR1 came while it started, before it listened: it may have the moved file open.
      if (child.logReopens !== this.#logReopens) this.#tellReopen(child)
      return
    }
    let handled: boolean
    try {
      handled = host.readMessage(child.pid, message, handle)
    } catch (err) {
      host.failed(`parentReadHook failed for child ${child.pid}`, err)
      return
    }
    if (handled || !isPoolMessage(message)) return
    switch (message.nsz) {
      case 'ready':
        this.#markReady(child)
        break
      case 'state':
        if (message.state === 'waiting' || message.state === 'processing') host.stateReported(child.pid, message.state)
        break
      case 'retire':
        this.#retire(child, message.reason ?? `served ${message.jobs} requests`)
        break
      case 'alive':
        host.emit('childAlive', child.pid, message.busy !== false)
        break
    }
  }

  /** Answers a child's `boot`: its bootstrap data over its own channel. A hook that throws leaves it unanswered (a boot failure). */
  #sendBootstrap (child: PoolChild): void {
    let data: Serializable | undefined
    try {
      data = this.#host.childBootstrap(child.pid)
    } catch (err) {
      this.#host.failed(`childBootstrap failed for child ${child.pid}`, err)
      child.signal('SIGKILL')
      return
    }
    this.#send(child, { nsz: 'bootstrap', data: data ?? null })
  }

  #tellReopen (child: PoolChild): void {
    if (child.exited) return
    child.logReopens = this.#logReopens
    this.#send(child, { nsz: 'reopen-log' })
  }

  #send (child: PoolChild, message: Serializable, handle?: SendHandle): boolean {
    return child.send(message, (err) => { this.#host.log(3, `cannot write to child ${child.pid}: ${err.message}`) }, handle)
  }

  #childExited (child: PoolChild, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.exited) return
    const host = this.#host
    child.exited = true
    const how = signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`
    const bootFailure = child.readyAt === undefined && !child.stopSent && !child.killed
    host.deleteChild(child.pid)
    host.emit('childExit', child.pid, code, signal)
    if (child.stopSent) {
      host.log(3, `child ${child.pid} stopped (${how})`)
    } else if (bootFailure) {
      this.#bootFailed(`child ${child.pid} exited during boot (${how})`)
    } else {
      host.log(1, `child ${child.pid} died (${how}); replacing it`)
    }
    host.changed()
  }

  #bootTimedOut (child: PoolChild): void {
    child.bootTimer = undefined
    if (child.exited || child.readyAt !== undefined || child.stopSent) return
    child.killed = true
    this.#bootFailed(`child ${child.pid} did not report ready within ${this.#host.options().childStartTimeout} ms; killed`)
    child.signal('SIGKILL')
  }

  #bootFailed (detail: string): void {
    const host = this.#host
    const o = host.options()
    const next = afterBootFailure(this.#boot, host.clock().now(), o)
    this.#boot = { failures: next.failures, notBefore: next.notBefore }
    host.log(1, `${detail}; next child in ${next.delay} ms (boot failure ${next.failures} of ${o.bootFailureLimit} in a row)`)
    const verdict = crashLoop(this.#boot, o)
    if (verdict === 'no') return
    const err = crashLoopError(o.bootFailureLimit, detail)
    if (host.startFailed(err)) return
    if (this.#abandonRestart()) host.log(0, 'restart abandoned: new children fail to boot; the old children keep serving')
    if (verdict === 'new') {
      host.log(0, err.message)
      host.emit('error', err)
    }
  }

  #checkForDead (): void {
    const host = this.#host
    for (const child of this.#children.values()) {
      if (child.exited) continue
      if (!isProcessAlive(child.pid)) {
        host.log(1, `child ${child.pid} is gone without an exit status`)
        child.exited = true
        host.deleteChild(child.pid)
        host.emit('childExit', child.pid, null, null)
      } else if (child.disconnectedAt !== undefined && !child.stopSent &&
        host.clock().now() - child.disconnectedAt >= CHILD_LINGER_LIMIT_MS + host.options().checkForDead) {
        // A child closes its channel as it ends and exits within CHILD_EXIT_GRACE_MS, or
        // a while later on a loaded machine; one that stays far longer is out of control.
        host.log(1, `child ${child.pid} lost its IPC channel and did not exit: killing it`)
        child.killed = child.readyAt !== undefined
        child.signal('SIGKILL')
      }
    }
    host.changed()
  }
}
