/**
 * How the broker's jobs ended, by service and status: the worker's status for a job it
 * answered, or the broker's own (404, 502, 503, 504) for one it answered itself. The
 * broker calls {@link JobCounts.ended} once per accepted job; `stats().jobs`, `nsz
 * status --json` and the metrics read the counts, and a {@link JobObserver}, when one
 * is set, learns each job's queue wait and run time.
 * @internal
 */
import type { Job } from './broker-tables.js'
import type { JobObserver } from './types.js'

/** Counts of ended jobs; one method call per job, no event. */
export class JobCounts {
  readonly #byService = new Map<string, Record<number, number>>()
  #observer: JobObserver | undefined

  /** Sets (or with `undefined`, removes) the one observer of job timings. */
  observe (observer: JobObserver | undefined): void {
    this.#observer = observer
  }

  /**
   * `job` ended with `status`. A job that is not on a worker (never sent, or waiting to
   * be sent again) waited until now; one that was sent waited until it was (the last
   * time, for a job sent again) and ran since.
   */
  ended (job: Job, status: number): void {
    const name = job.service.name
    let counts = this.#byService.get(name)
    if (counts === undefined) {
      counts = {}
      this.#byService.set(name, counts)
    }
    counts[status] = (counts[status] ?? 0) + 1
    if (this.#observer === undefined) return
    const now = Date.now()
    const ran = job.startedAt > 0
    this.#observer(name, status, ((ran ? job.startedAt : now) - job.queuedAt) / 1000, ran ? (now - job.startedAt) / 1000 : undefined)
  }

  /** A copy of the counts: service name to status to jobs. */
  snapshot (): Record<string, Record<number, number>> {
    const copy: Record<string, Record<number, number>> = {}
    for (const [name, counts] of this.#byService) copy[name] = { ...counts }
    return copy
  }
}
