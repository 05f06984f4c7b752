/**
 * The measurement window of a load generator (bench/load/*.js): it opens `warmup`
 * seconds after it is made and lasts `seconds`, and it tallies the replies.
 */
import { performance } from 'node:perf_hooks'
import { summarize } from './stats.js'

const now = () => performance.now()

/** One load's window and its tally of replies, failures and latencies (ms). */
export class LoadWindow {
  ok = 0
  failed = 0
  inWindow = 0
  latencies = []

  /** Starts the clock now; `seconds` may be `Infinity` for a load that ends by count. */
  constructor (warmup, seconds) {
    this.seconds = seconds
    this.start = now()
    this.warmEnd = this.start + warmup * 1000
    this.end = this.warmEnd + seconds * 1000
  }

  /** Counts one reply, sent at `start` and received at `finish` (`performance.now()` times). */
  reply (start, finish) {
    this.ok++
    // Throughput counts every reply inside the window: counting only requests also
    // sent inside it would drop one latency's worth of the window (10 % at 300 ms).
    if (finish >= this.warmEnd && finish <= this.end) {
      this.inWindow++
      if (start >= this.warmEnd) this.latencies.push(finish - start)
    }
  }

  /**
   * Runs `count` closed loops until the window ends: each awaits `call()` again as soon
   * as the previous one settled. A call that throws counts as failed and `onError` sees it.
   */
  async loops (count, call, onError) {
    const loop = async () => {
      while (now() < this.end) {
        const start = now()
        try {
          await call()
        } catch (error) {
          this.failed++
          onError?.(error)
          continue
        }
        this.reply(start, now())
      }
    }
    await Promise.all(Array.from({ length: count }, loop))
  }

  /** The `result` message of a timed load, with `extra` fields. */
  result (extra = {}) {
    return {
      type: 'result',
      ok: this.ok,
      failed: this.failed,
      ...extra,
      counted: this.inWindow,
      windowSeconds: this.seconds,
      throughput: this.inWindow / this.seconds,
      latency: summarize(this.latencies)
    }
  }
}
