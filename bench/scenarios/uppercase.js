/**
 * `uppercase`: 64-byte upper-case jobs, 4 workers, 1 / 16 / 64 concurrent REQ clients;
 * the direct ROUTER echo with the same payloads and client counts beside it.
 */
import { runLoad } from '../lib/load.js'
import { PAYLOAD_64, row, serverMissing, skipped, withServer } from '../lib/measure.js'
import { startEcho } from '../lib/servers.js'

const CLIENTS = [1, 16, 64]
const WORKERS = 4

export default {
  name: 'uppercase',
  description: '64-byte upper-case jobs, 4 workers, 1/16/64 REQ clients, beside a direct ROUTER echo',
  async run (ctx) {
    const rows = []
    const load = (endpoint, clients, verify) => runLoad('req-load', {
      endpoint, clients, payload: PAYLOAD_64, verify, seconds: ctx.config.seconds, warmup: ctx.config.warmup, timeoutMs: ctx.config.timeoutMs
    })

    const echo = await startEcho()
    try {
      for (const clients of CLIENTS) {
        const result = await load(echo.frontend, clients)
        rows.push(row('uppercase', 'echo', `c=${clients}`, result, { clients }))
        ctx.point(rows.at(-1))
      }
    } finally {
      await echo.stop()
    }

    const missing = serverMissing()
    if (missing) {
      for (const clients of CLIENTS) rows.push(skipped('uppercase', 'nsz', `c=${clients}`, missing, { clients, workers: WORKERS }))
      return { rows }
    }
    await withServer(ctx, { appName: 'uppercase', workers: WORKERS }, async server => {
      for (const clients of CLIENTS) {
        const result = await load(server.frontend, clients, 'upper')
        rows.push(row('uppercase', 'nsz', `c=${clients}`, result, { clients, workers: WORKERS }))
        ctx.point(rows.at(-1))
      }
    })
    return { rows }
  }
}
