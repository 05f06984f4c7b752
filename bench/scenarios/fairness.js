/**
 * `fairness`: 90 % 1 ms and 10 % 200 ms jobs (both asynchronous waits) from 6 REQ
 * clients on 4 workers; the wait of the short jobs and the count of short jobs that
 * waited while a worker was idle (lib/fairness.js defines it; the target is 0).
 */
import { runLoad } from '../lib/load.js'
import { analyseFairness } from '../lib/fairness.js'
import { row, serverMissing, skipped, withServer } from '../lib/measure.js'

const WORKERS = 4
const CLIENTS = 6

export default {
  name: 'fairness',
  description: '90 % 1 ms and 10 % 200 ms jobs, 6 REQ clients, 4 workers: p99 wait of the short jobs',
  async run (ctx) {
    const missing = serverMissing()
    if (missing) return { rows: [skipped('fairness', 'nsz', `c=${CLIENTS}`, missing, { clients: CLIENTS, workers: WORKERS })] }
    return withServer(ctx, { appName: 'fairness', workers: WORKERS }, async server => {
      const result = await runLoad('req-load', {
        endpoint: server.frontend,
        clients: CLIENTS,
        mix: { long: 0.1 },
        collect: 'timeline',
        seconds: Math.max(2 * ctx.config.seconds, 4),
        warmup: ctx.config.warmup,
        timeoutMs: ctx.config.timeoutMs
      })
      const analysis = analyseFairness(result.timeline, ctx.config.fairnessToleranceMs)
      const r = row('fairness', 'nsz', `c=${CLIENTS}`, result, {
        clients: CLIENTS,
        workers: WORKERS,
        shortWaitP99: analysis.shortWaitP99,
        violations: analysis.violations
      })
      ctx.point(r)
      return { rows: [r], metrics: analysis }
    })
  }
}
