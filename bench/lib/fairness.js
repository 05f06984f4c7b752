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
 *
 * With `slots` jobs per worker (`--concurrency`), "idle" reads "had a free slot": a
 * short job waited while a worker had fewer than `slots` jobs running for a stretch of
 * at least `tolerance`.
 */
import { summarize, round } from './stats.js'

export const TOLERANCE_MS = 10

/**
 * Longest stretch inside [from, to] during which a worker (its busy intervals) ran
 * fewer than `slots` jobs: with one slot, its longest idle stretch.
 */
function longestFree (intervals, from, to, slots) {
  const edges = []
  for (const [start, end] of intervals) {
    if (end <= from || start >= to) continue
    edges.push([Math.max(start, from), 1], [Math.min(end, to), -1])
  }
  // Ends before starts at the same instant: a slot handed over is not counted twice.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let running = 0
  let freeSince = from
  let longest = 0
  for (const [at, step] of edges) {
    if (running < slots && step > 0 && running + 1 === slots) longest = Math.max(longest, at - freeSince)
    running += step
    if (running === slots - 1 && step < 0) freeSince = at
  }
  return running < slots ? Math.max(longest, to - freeSince) : longest
}

/** Analyses a time line; see the module comment for the criterion. */
export function analyseFairness (timeline, tolerance = TOLERANCE_MS, slots = 1) {
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
      const idle = longestFree(intervals, job.send, job.start, slots)
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
    slots,
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
