/**
 * A log that a flood cannot flood: per kind of line, the first one in a window is
 * written at once, the others in that window are only counted, and when the window
 * ends a summary says how many there were ("N more in the last 10 s").
 * @internal
 */

/** Writes one line; `kind` is what the limiter counts by. */
export type LimitedWrite = (kind: string, line: string) => void

interface Window {
  /** Lines suppressed since the window opened. */
  suppressed: number
  /** The last suppressed line, for the summary. */
  last: string
}

/** Default window, in milliseconds. */
export const RATE_LIMIT_WINDOW_MS = 10_000

/**
 * Rate-limits lines by kind. A timer runs only while some window is open, and never
 * keeps the process alive; {@link RateLimiter.close} writes the pending summaries.
 */
export class RateLimiter {
  readonly #write: LimitedWrite
  readonly #windowMs: number
  readonly #open = new Map<string, Window>()
  #timer: NodeJS.Timeout | undefined

  /**
   * @param write - writes a line; called with the first line of a window and with each summary
   * @param windowMs - how long after a line others of its kind are only counted
   */
  constructor (write: LimitedWrite, windowMs = RATE_LIMIT_WINDOW_MS) {
    this.#write = write
    this.#windowMs = windowMs
  }

  /** Writes `line` now when no line of `kind` was written in the current window; else counts it. */
  note (kind: string, line: string): void {
    const open = this.#open.get(kind)
    if (open !== undefined) {
      open.suppressed++
      open.last = line
      return
    }
    this.#open.set(kind, { suppressed: 0, last: line })
    this.#write(kind, line)
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#flush, this.#windowMs)
      this.#timer.unref()
    }
  }

  /** Writes the summaries of the windows open now and stops the timer. */
  close (): void {
    clearTimeout(this.#timer)
    this.#flush()
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#open.clear()
  }

  /**
   * Ends every open window: a kind with lines suppressed gets its summary and a new
   * window (its next lines are still counted, so a flood gives one line per window);
   * a kind that was quiet closes, and its next line is written at once.
   */
  readonly #flush = (): void => {
    this.#timer = undefined
    const window = this.#windowMs % 1000 === 0 ? `${this.#windowMs / 1000} s` : `${this.#windowMs} ms`
    for (const [kind, open] of [...this.#open]) {
      if (open.suppressed === 0) {
        this.#open.delete(kind)
        continue
      }
      this.#write(kind, `${open.suppressed} more in the last ${window} (${kind}), the last: ${open.last}`)
      open.suppressed = 0
    }
    if (this.#open.size > 0) {
      this.#timer = setTimeout(this.#flush, this.#windowMs)
      this.#timer.unref()
    }
  }
}
