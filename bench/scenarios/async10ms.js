/**
 * `async10ms`: 10 ms asynchronous jobs, 4 workers, 100 concurrent REQ clients. The
 * ideal is 4 workers x 100 jobs per second = 400 per second; efficiency is the
 * achieved throughput over that ideal.
 */
import { runLoad } from '../lib/load.js'
import { row, serverMissing, skipped, withServer } from '../lib/measure.js'
import { round } from '../lib/stats.js'

const WORKERS = 4
const CLIENTS = 100
const IDEAL = WORKERS * 1000 / 10

export default {
  name: 'async10ms',
  description: '10 ms asynchronous jobs, 4 workers, 100 REQ clients; efficiency against the ideal 400/s',
  async run (ctx) {
    const missing = serverMissing()
    if (missing) return { rows: [skipped('async10ms', 'nsz', `c=${CLIENTS}`, missing, { clients: CLIENTS, workers: WORKERS })] }
    return withServer(ctx, { appName: 'sleep10ms', workers: WORKERS }, async server => {
      const result = await runLoad('req-load', {
        endpoint: server.frontend,
        clients: CLIENTS,
        payload: 'x',
        collect: 'number',
        seconds: Math.max(ctx.config.seconds, 3),
        warmup: ctx.config.warmup,
        timeoutMs: ctx.config.timeoutMs
      })
      const efficiency = result.throughput / IDEAL
      const r = row('async10ms', 'nsz', `c=${CLIENTS}`, result, {
        clients: CLIENTS, workers: WORKERS, efficiency: round(efficiency), meanJobMs: round(result.meanNumber)
      })
      ctx.point(r)
      return {
        rows: [r],
        metrics: {
          ideal: IDEAL,
          efficiency: round(efficiency),
          // Node timers fire late, never early: the ceiling that the job's own wait allows.
          meanJobMs: round(result.meanNumber),
          jobBoundIdeal: round(WORKERS * 1000 / result.meanNumber)
        }
      }
    })
  }
}
