/**
 * The child's side of the pool (Net::Server's `run_child`): its IPC to the parent,
 * watching the parent, asking to retire after `maxRequests`, and its signals. It
 * never loads the parent's supervisor.
 */
import { randomInt } from 'node:crypto'
import { SignalRegistry, type LogLevel, type SignalHandlers } from '@net-server/core'
import { CHILD_EXIT_GRACE_MS, isPoolMessage, type ChildMessage } from './ipc.js'
import type { ResolvedPreForkOptions } from './options.js'

/** How long a child whose parent is gone may take to stop, when its options are not resolved yet. */
const DEFAULT_ORPHAN_GRACE_MS = 30_000

/**
 * A child's signal table, derived from the parent's: every signal the parent
 * handles is ignored, unless the child has an action of its own for it. A signal
 * sent to the whole process group (Ctrl-C, `kill -HUP -<pgid>`) is then the
 * parent's to act on, and a signal added to the parent's table can never reach a
 * child unhandled (for SIGUSR2 the default action would kill it).
 */
export function childSignalHandlers (parent: SignalHandlers, own: SignalHandlers): SignalHandlers {
  const ignore = (): void => {}
  const table: SignalHandlers = {}
  for (const signal of Object.keys(parent) as NodeJS.Signals[]) table[signal] = ignore
  return { ...table, ...own }
}

/** What the child runtime asks of its server. */
export interface ChildHost {
  /** True once a stop was requested. */
  stopping (): boolean
  /** The resolved options; throws before `configure` resolved them. */
  options (): ResolvedPreForkOptions
  log (level: LogLevel, message: string): void
  reopenLog (): void
  /** Stops the child (its `close()`). */
  close (graceful: boolean): Promise<void>
  /** Hurries a graceful stop under way (its `stopLoop(false)`). */
  hurry (): Promise<void>
  /** Reports a failure that no caller can receive (log and `error` event). */
  failed (message: string, err: unknown): void
}

/** The child's runtime: created by a `PreForkServer` that finds itself a child. */
export class ChildRuntime {
  readonly #host: ChildHost
  #served = 0
  #started = 0
  /** Requests started and not finished: several at once in a child that runs them concurrently. */
  #running = 0
  #requestLimit = Number.POSITIVE_INFINITY
  #retireSent = false
  #signals: SignalRegistry | undefined
  readonly #onParentMessage = (message: unknown): void => { this.#parentSaid(message) }
  readonly #onParentGone = (): void => { this.#parentGone() }

  constructor (host: ChildHost) {
    this.#host = host
  }

  /** Requests served so far. */
  get served (): number {
    return this.#served
  }

  /**
   * Requests this child may still start before its limit (`maxRequests` + jitter);
   * infinite without one. A child that runs several at once takes no new one at 0.
   */
  get requestsLeft (): number {
    return Math.max(0, this.#requestLimit - this.#started)
  }

  /** Watches the parent from the start (in `configure`): when its channel closes, the child stops. */
  watchParent (): void {
    process.once('disconnect', this.#onParentGone)
    if (!process.connected) this.#parentGone()
  }

  /**
   * Starts listening to the parent (first in `runChild`): draws this child's
   * request limit (`maxRequests` + jitter) and, with `handleSignals`, installs the
   * signal table derived from the parent's (`parentSignals`).
   */
  start (parentSignals: SignalHandlers): void {
    const o = this.#host.options()
    this.#requestLimit = o.maxRequests === 0
      ? Number.POSITIVE_INFINITY
      : o.maxRequests + (o.maxRequestsJitter > 0 ? randomInt(o.maxRequestsJitter + 1) : 0)
    process.on('message', this.#onParentMessage)
    if (o.handleSignals) this.#installSignals(parentSignals)
  }

  /**
   * The child's signal table, derived from the parent's (`parentSignals`): its
   * signals ignored, except USR1 (reopen the log) and TERM (a fast stop of this
   * child).
   */
  signalTable (parentSignals: SignalHandlers): SignalHandlers {
    return childSignalHandlers(parentSignals, {
      SIGUSR1: () => { this.#host.reopenLog() },
      SIGTERM: () => { this.#host.close(false).catch(() => {}) }
    })
  }

  #installSignals (parentSignals: SignalHandlers): void {
    this.#signals = new SignalRegistry((signal, err) => { this.#host.failed(`signal ${signal} failed`, err) })
    this.#signals.install(this.signalTable(parentSignals))
  }

  /**
   * Asks the parent for this child's bootstrap data and resolves with it (`null` when
   * the parent has none), over the IPC channel only this child holds: how secrets
   * reach a child without its environment, which other processes of the same user can
   * read. Resolves `undefined` when the parent goes first.
   */
  async bootstrap (): Promise<unknown> {
    return await new Promise((resolve) => {
      const done = (data: unknown): void => {
        process.off('message', onMessage)
        process.off('disconnect', onGone)
        resolve(data)
      }
      const onMessage = (message: unknown): void => {
        if (isPoolMessage(message) && message.nsz === 'bootstrap') done(message.data)
      }
      const onGone = (): void => { done(undefined) }
      process.on('message', onMessage)
      process.once('disconnect', onGone)
      if (!process.connected) onGone()
      else this.tell({ nsz: 'boot' })
    })
  }

  /** Sends a pool message to the parent; a closed channel is logged, never thrown. */
  tell (message: ChildMessage): void {
    if (process.send === undefined || !process.connected) return
    process.send(message, undefined, undefined, (err: Error | null) => {
      if (err !== null) this.#host.log(3, `cannot write to the parent: ${err.message}`)
    })
  }

  /**
   * Runs one request (`run`): `processing` when it takes the last of the child's
   * `slots` and `waiting` when it frees one, for the parent's tally (when the child
   * reports its state); then, once the request limit is reached, asks to be replaced. Nothing is reported once the
   * child is stopping.
   */
  async runRequest (reportsState: boolean, run: () => Promise<void>, slots = 1): Promise<void> {
    this.#started++
    // With several requests at once (`slots`), the child is busy once all are taken,
    // and waiting again as soon as one is free.
    if (++this.#running === slots && reportsState) this.tell({ nsz: 'state', state: 'processing' })
    try {
      await run()
    } finally {
      this.#served++
      const freed = this.#running-- === slots
      if (!this.#host.stopping()) {
        if (reportsState && freed) this.tell({ nsz: 'state', state: 'waiting' })
        this.#retireOnLimit()
      }
    }
  }

  /** Asks the parent to replace this child (a replacement first, then a graceful stop of this one), saying why. */
  retire (reason: string): void {
    if (this.#retireSent) return
    this.#retireSent = true
    this.tell({ nsz: 'retire', jobs: this.#served, reason })
  }

  /**
   * Lets go of the parent (in `serverClose`): signal handlers and IPC listeners
   * removed, the channel closed, and the process made to exit shortly if something
   * still holds it open.
   */
  close (): void {
    this.#signals?.uninstall()
    process.off('message', this.#onParentMessage)
    process.off('disconnect', this.#onParentGone)
    if (process.connected) process.disconnect()
    setTimeout(() => process.exit(), CHILD_EXIT_GRACE_MS).unref()
  }

  #retireOnLimit (): void {
    if (this.#served < this.#requestLimit || this.#retireSent) return
    this.#retireSent = true
    this.#host.log(3, `served ${this.#served} requests: asking to be replaced`)
    this.tell({ nsz: 'retire', jobs: this.#served })
  }

  #parentSaid (message: unknown): void {
    if (!isPoolMessage(message)) return
    const host = this.#host
    if (message.nsz === 'stop') {
      if (host.stopping()) {
        if (!message.graceful) host.hurry().catch((err: unknown) => { host.failed('stop failed', err) })
        return
      }
      host.log(3, `told to stop (${message.graceful ? 'graceful' : 'fast'})`)
      host.close(message.graceful).catch((err: unknown) => { host.failed('stop failed', err) })
    } else if (message.nsz === 'reopen-log') {
      host.reopenLog()
    }
  }

  #parentGone (): void {
    process.off('disconnect', this.#onParentGone)
    let grace = DEFAULT_ORPHAN_GRACE_MS
    try {
      grace = this.#host.options().gracefulTimeout
    } catch {
      // Options are not resolved yet: keep the default.
    }
    // Work in flight has nobody to report to; stop fast. Nobody is left to kill
    // this process if the stop hangs, so it ends itself after gracefulTimeout.
    this.#host.log(1, 'the parent is gone: stopping')
    setTimeout(() => process.exit(1), grace).unref()
    this.#host.close(false).catch(() => {})
  }
}
