/**
 * The dashboard's charts: the last minutes, one point a second, of jobs ended by
 * status, their run time (p50, p99) and the queue depth. Jobs feed it as they end
 * (through the broker's job observer); nothing runs on a timer, so an idle server
 * spends nothing on it. Every buffer is bounded: a ring of seconds, and per second a
 * fixed sample of run times (reservoir sampling) for the quantiles.
 * @internal
 */

/** Seconds of history the charts show. */
export const HISTORY_SECONDS = 300

/** Run times kept per second for its quantiles: beyond that, a uniform sample. */
const SAMPLES_PER_SECOND = 256

/** One second of the ring. */
interface Second {
  /** The second (since the epoch) this slot holds; -1 while unused. */
  at: number
  readonly counts: Map<number, number>
  /** Run times in milliseconds, at most {@link SAMPLES_PER_SECOND}. */
  readonly runs: number[]
  /** Run times seen this second (the reservoir's denominator). */
  seen: number
  /** The highest queue depth read this second, or -1 for none. */
  queue: number
  /** The last queue depth read this second: the one carried into the seconds after it without a reading. */
  queueLast: number
  /** The quantiles, once the second is over. */
  quantiles: readonly [p50: number, p99: number] | undefined
}

/** The charts' data, in columns: `t[i]` (seconds since the epoch) is the time of each value `[i]`. */
export interface HistoryColumns {
  readonly t: number[]
  /** Jobs ended in each second, by status (`'200'`, `'504'` …); every status seen in the window. */
  readonly jobs: Record<string, number[]>
  /** Median run time in milliseconds; `null` for a second in which no job ran. */
  readonly p50: Array<number | null>
  /** 99th percentile run time in milliseconds; `null` likewise. */
  readonly p99: Array<number | null>
  /** Requests waiting, the highest read in each second; a second with no reading repeats the one before. */
  readonly queue: number[]
}

/** The `q` quantile of sorted values (nearest rank). */
function quantile (sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** A ring of {@link HISTORY_SECONDS} seconds of job outcomes, run times and queue depths. */
export class JobHistory {
  readonly #ring: Second[] = Array.from({ length: HISTORY_SECONDS }, () => ({ at: -1, counts: new Map(), runs: [], seen: 0, queue: -1, queueLast: -1, quantiles: undefined }))
  readonly #now: () => number
  readonly #random: () => number
  /** The last queue depth read, carried into seconds without a reading. */
  #lastQueue = 0
  #lastQueueAt = -1

  /** @param now - the clock (ms since the epoch) @param random - for the run-time sample */
  constructor (now: () => number = Date.now, random: () => number = Math.random) {
    this.#now = now
    this.#random = random
  }

  /** A job ended with `status` after running `runMs` (`undefined`: it never reached a worker). */
  jobEnded (status: number, runMs: number | undefined): void {
    const s = this.#slot(Math.floor(this.#now() / 1000))
    s.counts.set(status, (s.counts.get(status) ?? 0) + 1)
    if (runMs === undefined) return
    s.seen++
    if (s.runs.length < SAMPLES_PER_SECOND) s.runs.push(runMs)
    else {
      const i = Math.floor(this.#random() * s.seen)
      if (i < SAMPLES_PER_SECOND) s.runs[i] = runMs
    }
  }

  /** Whether the queue depth was read in the current second already (a reader need not read it again). */
  queueReadThisSecond (): boolean {
    return this.#lastQueueAt === Math.floor(this.#now() / 1000)
  }

  /** The queue depth now. */
  queueDepth (depth: number): void {
    const second = Math.floor(this.#now() / 1000)
    const s = this.#slot(second)
    s.queue = Math.max(s.queue, depth)
    s.queueLast = depth
    this.#lastQueue = depth
    this.#lastQueueAt = second
  }

  /** The window up to the current second, in columns. */
  columns (): HistoryColumns {
    const end = Math.floor(this.#now() / 1000)
    const start = end - HISTORY_SECONDS + 1
    const statuses = new Set<number>([200])
    for (const s of this.#ring) if (s.at >= start) for (const status of s.counts.keys()) statuses.add(status)
    const order = [...statuses].sort((a, b) => a - b)
    const out: HistoryColumns = { t: [], jobs: Object.fromEntries(order.map((k) => [String(k), []])), p50: [], p99: [], queue: [] }
    // A second before the first reading in the window shows the reading carried from before it.
    let queue = this.#carriedQueue(start)
    for (let at = start; at <= end; at++) {
      const s = this.#ring[at % HISTORY_SECONDS]!
      const held = s.at === at
      out.t.push(at)
      for (const status of order) out.jobs[String(status)]!.push(held ? s.counts.get(status) ?? 0 : 0)
      const q = held && s.runs.length > 0 ? this.#quantiles(s, at < end) : undefined
      out.p50.push(q === undefined ? null : q[0])
      out.p99.push(q === undefined ? null : q[1])
      if (held && s.queue >= 0) {
        out.queue.push(s.queue)
        queue = s.queueLast
      } else {
        out.queue.push(queue)
      }
    }
    return out
  }

  /** The queue depth in force at `start`: the last reading before it, if it is still known. */
  #carriedQueue (start: number): number {
    if (this.#lastQueueAt < start) return this.#lastQueue
    let best = -1
    let value = 0
    for (const s of this.#ring) {
      if (s.at < start && s.at > best && s.queue >= 0) {
        best = s.at
        value = s.queueLast
      }
    }
    return value
  }

  #quantiles (s: Second, over: boolean): readonly [number, number] {
    if (s.quantiles !== undefined) return s.quantiles
    const sorted = [...s.runs].sort((a, b) => a - b)
    const q = [quantile(sorted, 0.5), quantile(sorted, 0.99)] as const
    // A second that is over changes no more: its quantiles are worked out once.
    if (over) s.quantiles = q
    return q
  }

  /** The slot of `second`, emptied when it last held an older second. */
  #slot (second: number): Second {
    const s = this.#ring[second % HISTORY_SECONDS]!
    if (s.at !== second) {
      s.at = second
      s.counts.clear()
      s.runs.length = 0
      s.seen = 0
      s.queue = -1
      s.queueLast = -1
      s.quantiles = undefined
    }
    return s
  }
}
