/**
 * `cpu5ms`: a 5 ms CPU-bound job with 1 and with 2 workers, under 4 REQ clients so
 * that every worker is always busy; the speedup is the ratio of the two throughputs.
 */
import { runLoad } from '../lib/load.js'
import { row, serverMissing, skipped, withServer } from '../lib/measure.js'
import { round } from '../lib/stats.js'

const CLIENTS = 4

export default {
  name: 'cpu5ms',
  description: 'a 5 ms CPU-bound job with 1 and with 2 workers (4 REQ clients); speedup',
  async run (ctx) {
    const missing = serverMissing()
    if (missing) {
      return { rows: [1, 2].map(workers => skipped('cpu5ms', 'nsz', `w=${workers}`, missing, { clients: CLIENTS, workers })) }
    }
    const rows = []
    for (const workers of [1, 2]) {
      await withServer(ctx, { appName: 'cpu5ms', workers }, async server => {
        const result = await runLoad('req-load', {
          endpoint: server.frontend, clients: CLIENTS, payload: 'x', seconds: ctx.config.seconds, warmup: ctx.config.warmup, timeoutMs: ctx.config.timeoutMs
        })
        rows.push(row('cpu5ms', 'nsz', `w=${workers}`, result, { clients: CLIENTS, workers }))
        ctx.point(rows.at(-1))
      })
    }
    return { rows, metrics: { speedup: round(rows[1].throughput / rows[0].throughput) } }
  }
}
