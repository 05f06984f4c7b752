/**
 * The pool's growth for waiting requests (`scaleUpWait`): a timer that runs only while
 * requests wait, and asks {@link growForWait} whether their wait calls for one more
 * child. The personality, which owns the queue, says when a request begins to wait
 * and how long the oldest has waited.
 * @internal
 */
import { growForWait, type PoolBounds, type PoolTally, type WaitOptions } from './scaling.js'

/** What the scaler needs of the pool. */
export interface WaitScalerHost {
  /** Milliseconds the oldest waiting request has waited; 0 when none waits. */
  wait (): number
  tally (): PoolTally
  bounds (): PoolBounds
}

/** Checks the queue's wait while requests wait; idle otherwise. */
export class WaitScaler {
  readonly #options: WaitOptions
  readonly #host: WaitScalerHost
  readonly #grow: (wait: number) => void
  #timer: NodeJS.Timeout | undefined
  #grownAt = Number.NEGATIVE_INFINITY
  #closed = false

  /** @param grow - starts one more child, within `maxServers`; `wait` is what the oldest request has waited */
  constructor (options: WaitOptions, host: WaitScalerHost, grow: (wait: number) => void) {
    this.#options = options
    this.#host = host
    this.#grow = grow
  }

  /** A request began to wait: look at the queue once it may have waited `scaleUpWait`. */
  waiting (): void {
    if (this.#timer !== undefined || this.#closed || this.#options.scaleUpWait === 0) return
    this.#arm(Math.max(0, this.#options.scaleUpWait - this.#host.wait()))
  }

  close (): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm (ms: number): void {
    this.#timer = setTimeout(this.#check, ms)
  }

  readonly #check = (): void => {
    this.#timer = undefined
    if (this.#closed) return
    const now = Date.now()
    const wait = this.#host.wait()
    const decision = growForWait(wait, now - this.#grownAt, this.#host.tally(), this.#host.bounds(), this.#options)
    if (decision.grow) {
      this.#grownAt = now
      this.#grow(wait)
    }
    if (decision.recheck !== undefined) this.#arm(decision.recheck)
  }
}
