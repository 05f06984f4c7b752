/**
 * Counts events in one-second buckets over a sliding window, for "jobs per
 * second" in `nsz status`. `tick()` is O(1) and allocates nothing.
 */
export class RateMeter {
  readonly #counts: Float64Array
  readonly #seconds: Float64Array
  readonly #window: number

  constructor (windowSeconds: number) {
    this.#window = windowSeconds
    this.#counts = new Float64Array(windowSeconds)
    this.#seconds = new Float64Array(windowSeconds).fill(-1)
  }

  /** Counts one event now. */
  tick (now = Date.now()): void {
    const second = Math.floor(now / 1000)
    const i = second % this.#window
    if (this.#seconds[i] !== second) {
      this.#seconds[i] = second
      this.#counts[i] = 0
    }
    this.#counts[i]!++
  }

  /** Events per second over the last full seconds of the window. */
  perSecond (now = Date.now()): number {
    const current = Math.floor(now / 1000)
    let total = 0
    for (let i = 0; i < this.#window; i++) {
      const s = this.#seconds[i]!
      if (s < current && s >= current - this.#window + 1) total += this.#counts[i]!
    }
    return total / (this.#window - 1)
  }
}
