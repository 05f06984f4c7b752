/**
 * Wraps a benchmark job so that the harness can ask which worker serves it: the
 * payload `nsz-bench:pid` holds the worker for `PROBE_HOLD_MS` and answers `pid <pid>`.
 * Holding the worker makes concurrent probes land on distinct workers, so that one
 * round of N probes that comes back with N pids proves N workers are serving.
 */
import { setTimeout as sleep } from 'node:timers/promises'

export const PROBE = 'nsz-bench:pid'
export const PROBE_HOLD_MS = 50

/** Returns `job` extended with the pid probe. */
export function withProbe (job) {
  return async function benchJob (payload) {
    if (payload.length === PROBE.length && payload.toString('latin1') === PROBE) {
      await sleep(PROBE_HOLD_MS)
      return `pid ${process.pid}`
    }
    return job(payload)
  }
}
