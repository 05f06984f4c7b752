/**
 * Shared pieces of the scenarios: the standard payload, result rows and a scoped
 * server that is always stopped.
 */
import { round } from './stats.js'
import { serverMissing, startServer, waitForWorkers } from './servers.js'

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

/**
 * Starts the job server, waits until all its workers serve, runs `fn(server)` and
 * stops the server whatever happens.
 */
export async function withServer (ctx, options, fn) {
  ctx.log(`  starting nsz serve: ${options.workers} workers, app ${options.appName}`)
  const server = await startServer(options)
  try {
    const workers = await waitForWorkers(server.frontend, options.workers)
    ctx.log(`  ready in ${round(server.readyMs)} ms, ${options.workers} workers serving after ${round(server.readyMs + workers.ms)} ms`)
    return await fn({ ...server, workerPids: workers.pids, workersMs: workers.ms })
  } finally {
    await server.stop()
  }
}

export { serverMissing }
