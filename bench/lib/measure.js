/**
 * Shared pieces of the scenarios: the standard payload and the result rows
 * (scenario.js records them).
 */
import { round } from './stats.js'

/** The 64-byte lower-case payload of the `uppercase` jobs. */
export const PAYLOAD_64 = 'abcdefghijklmnopqrstuvwxyz'.repeat(3).slice(0, 64)

/**
 * One measured (or skipped) point: `system` is `nsz` (the job server), `echo` or
 * `bullmq`; `key` names the point across systems (`c=16`), so that a target can set
 * the two side by side.
 */
export function row (scenario, system, key, result, extra = {}) {
  if (!result || result.type === 'skip') {
    return { scenario, system, key, status: 'skipped', reason: result?.reason ?? 'not measured', ...extra }
  }
  return {
    scenario,
    system,
    key,
    status: 'ok',
    throughput: round(result.throughput),
    p50: round(result.latency?.p50),
    p99: round(result.latency?.p99),
    ok: result.ok,
    failed: result.failed,
    errors: result.failed ? result.errors : undefined,
    windowSeconds: round(result.windowSeconds),
    ...extra
  }
}

/** A skipped row with a reason. */
export function skipped (scenario, system, key, reason, extra = {}) {
  return { scenario, system, key, status: 'skipped', reason, ...extra }
}
