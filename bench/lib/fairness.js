/**
 * The fairness criterion, computed from the job time line that the `fairness` app
 * reports (each job's send, start, end and reply times on the shared wall clock, and
 * the worker that ran it).
 *
 * A job's wait is `start - send`: the time from the client's send until a worker began
 * it (transport both ways included). A short job *waited while a worker was idle* when
 * its wait exceeds `tolerance` and, during that wait, some other worker had an idle
 * stretch of at least `tolerance` (no job of its own running). With a broker that hands
 * jobs only to idle workers, such a job cannot exist: a queued job waits only while
 * every worker is busy. A broker that pushes jobs to busy workers (prefetch) or picks a
 * busy one makes the short job wait behind a 200 ms job while another worker idles,
 * which this counts. Only jobs sent after the warm-up are judged (a new connection's
 * first request also waits for the TCP and ZMTP handshakes), but the busy time lines
 * hold every job. Every job of the run is on the time line (the workers run nothing
 * else meanwhile), so a gap between two recorded jobs of a worker is idle time. The
 * tolerance (5 ms) absorbs the hand-over gap between one job's
 * end and the next job's start on the same worker, and clock skew between processes.
 */
import { summarize, round } from './stats.js'

export const TOLERANCE_MS = 10

/** Longest idle stretch of a worker (sorted busy intervals) inside [from, to]. */
function longestIdle (intervals, from, to) {
  let cursor = from
  let longest = 0
  for (const [start, end] of intervals) {
    if (end <= cursor) continue
    if (start >= to) break
    longest = Math.max(longest, start - cursor)
    cursor = Math.max(cursor, end)
  }
  return Math.max(longest, to - cursor)
}

/** Analyses a time line; see the module comment for the criterion. */
export function analyseFairness (timeline, tolerance = TOLERANCE_MS) {
  const busy = new Map()
  for (const job of timeline) {
    if (!busy.has(job.pid)) busy.set(job.pid, [])
    busy.get(job.pid).push([job.start, job.end])
  }
  for (const intervals of busy.values()) intervals.sort((a, b) => a[0] - b[0])
  const shortWaits = []
  const longWaits = []
  let violations = 0
  let behindLong = 0
  const examples = []
  for (const job of timeline) {
    if (!job.judged) continue
    const wait = job.start - job.send
    if (job.kind === 'long') {
      longWaits.push(wait)
      continue
    }
    shortWaits.push(wait)
    // Queued on a worker that was still running a long job when the short one was sent.
    const own = busy.get(job.pid)
    const previous = own[own.findIndex(([start]) => start === job.start) - 1]
    if (previous && previous[1] - previous[0] > 100 && previous[1] > job.send) behindLong++
    if (wait <= tolerance) continue
    for (const [pid, intervals] of busy) {
      if (pid === job.pid) continue
      const idle = longestIdle(intervals, job.send, job.start)
      if (idle >= tolerance) {
        violations++
        if (examples.length < 5) examples.push({ waitMs: round(wait), idleWorker: pid, idleMs: round(idle) })
        break
      }
    }
  }
  const short = summarize(shortWaits)
  const long = summarize(longWaits)
  return {
    toleranceMs: tolerance,
    workers: busy.size,
    shortJobs: short.n,
    longJobs: long.n,
    shortWaitP50: round(short.p50),
    shortWaitP99: round(short.p99),
    shortWaitMax: round(short.max),
    longWaitP99: round(long.p99),
    shortBehindLong: behindLong,
    violations,
    examples
  }
}
