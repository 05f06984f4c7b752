/**
 * The pool's size in the parent: its bounds as TTIN / TTOU and waiting requests move
 * them, what the scaling rules of `scaling.ts` ask of them now, and the promises that
 * the pool first reached them and that it emptied.
 * @internal
 */
import { isProbing } from './boot-backoff.js'
import { deferred, type Deferred } from './deferred.js'
import {
  boundsAfterSpawn, childrenToStart, childrenToStop, initialBounds, lowerBounds, poolStarted, raiseBounds,
  type PoolBounds, type StopOrder
} from './scaling.js'
import type { Supervisor, SupervisorHost } from './supervisor.js'
import { WaitScaler } from './wait-scaler.js'

/** What the pool's size needs of its server. */
export interface PoolSizeHost extends Pick<SupervisorHost, 'options' | 'clock' | 'supervising' | 'log'> {
  /** Milliseconds the oldest waiting request has waited (the personality's `queueWait()`). */
  queueWait (): number
  /** Asks for a pass of `coordinateChildren`. */
  coordinate (): void
}

/** The bounds of one pool and the decisions read from them and its tally. */
export class PoolSize {
  readonly #host: PoolSizeHost
  readonly #pool: Supervisor
  #bounds: PoolBounds = { minServers: 0, maxServers: 0, extra: 0 }
  #started: Deferred | undefined
  #drained: Deferred | undefined
  #scaler: WaitScaler | undefined

  constructor (host: PoolSizeHost, pool: Supervisor) {
    this.#host = host
    this.#pool = pool
  }

  get bounds (): PoolBounds {
    return this.#bounds
  }

  /** Sets the bounds from the options; the promise settles once the pool first reached them, or its start failed. */
  start (): Promise<void> {
    const o = this.#host.options()
    this.#bounds = initialBounds(o)
    this.#started = deferred()
    if (o.scaleUpWait > 0) this.#scaler = this.#waitScaler()
    return this.#started.promise
  }

  /** How many children the scaling rules ask for now. */
  missing (): number {
    return childrenToStart(this.#pool.tally(), this.#bounds, this.#host.options(), isProbing(this.#pool.boot))
  }

  /** How many children the spare rules stop now, and whether busy ones may go. */
  surplus (): StopOrder {
    return childrenToStop(this.#pool.tally(), this.#bounds, this.#host.options(), this.#host.clock().now() - this.#pool.lastSpawn)
  }

  /** Settles the start once the tally has reached the bounds. */
  checkStarted (): void {
    if (this.#started === undefined || this.#started.settled) return
    if (poolStarted(this.#pool.tally(), this.#bounds)) this.#started.resolve()
  }

  /** Rejects a start still pending with `err`; false when there is none to reject. */
  startFailed (err: Error): boolean {
    if (this.#started === undefined || this.#started.settled) return false
    this.#started.reject(err)
    return true
  }

  /** Resolves once the pool, stopping, has no child left ({@link checkDrained}). */
  drained (): Promise<void> {
    this.#drained ??= deferred()
    return this.#drained.promise
  }

  /** Resolves {@link drained} when the server stops and no child is left. */
  checkDrained (stopping: boolean): void {
    if (stopping && this.#pool.size === 0) this.#drained?.resolve()
  }

  /** TTIN: one more child, both bounds up by one. */
  raise (): PoolBounds {
    this.#bounds = raiseBounds(this.#bounds)
    return this.#bounds
  }

  /** TTOU: both bounds down by one; returns how many children should leave. */
  lower (): { bounds: PoolBounds, stop: number } {
    const lowered = lowerBounds(this.#bounds, this.#pool.tally())
    this.#bounds = lowered.bounds
    return lowered
  }

  /** `count` children were spawned: an extra one asked for by waiting requests is taken. */
  spawned (count: number): void {
    this.#bounds = boundsAfterSpawn(this.#bounds, count)
  }

  /** A request began to wait (`scaleUpWait`). */
  waiting (): void {
    this.#scaler?.waiting()
  }

  /** Stops growing for waiting requests. */
  closeScaler (): void {
    this.#scaler?.close()
  }

  /** The pool stops: no more growth, and a start still pending resolves. */
  stop (): void {
    this.#scaler?.close()
    this.#started?.resolve()
  }

  /** Grows the pool for waiting requests: one more child asked for, the bounds unmoved; the spare rules take it back once idle. */
  #waitScaler (): WaitScaler {
    const o = this.#host.options()
    return new WaitScaler(o, { wait: () => this.#host.queueWait(), tally: () => this.#pool.tally(), bounds: () => this.#bounds }, (wait) => {
      if (!this.#host.supervising()) return
      this.#bounds = { ...this.#bounds, extra: this.#bounds.extra + 1 }
      this.#host.log(2, `a request has waited ${wait} ms (scaleUpWait ${o.scaleUpWait} ms): one more child`)
      this.#host.coordinate()
    })
  }
}
