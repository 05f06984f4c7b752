/**
 * `pipelined`: 256 requests in flight on one connection: the project's `Client`
 * against the job server (4 workers), and a zeromq.js DEALER against the echo.
 */
import { runLoad } from '../lib/load.js'
import { PAYLOAD_64, row, serverMissing, skipped, withServer } from '../lib/measure.js'
import { startEcho } from '../lib/servers.js'

const IN_FLIGHT = 256
const WORKERS = 4

export default {
  name: 'pipelined',
  description: 'the pipelined Client with 256 requests in flight (4 workers), beside a DEALER on the echo',
  async run (ctx) {
    const rows = []
    const config = endpoint => ({
      endpoint, inFlight: IN_FLIGHT, payload: PAYLOAD_64, seconds: ctx.config.seconds, warmup: ctx.config.warmup, timeoutMs: ctx.config.timeoutMs
    })
    const echo = await startEcho()
    try {
      rows.push(row('pipelined', 'echo', 'inflight=256', await runLoad('pipe-load', { kind: 'dealer', ...config(echo.frontend) }), { inFlight: IN_FLIGHT }))
      ctx.point(rows.at(-1))
    } finally {
      await echo.stop()
    }

    const missing = serverMissing()
    if (missing) {
      rows.push(skipped('pipelined', 'nsz', 'inflight=256', missing, { inFlight: IN_FLIGHT, workers: WORKERS }))
      return { rows }
    }
    await withServer(ctx, { appName: 'uppercase', workers: WORKERS }, async server => {
      const result = await runLoad('pipe-load', { kind: 'client', ...config(server.frontend) })
      if (result.type === 'skip') ctx.log(`  skipped: ${result.reason}`)
      rows.push(row('pipelined', 'nsz', 'inflight=256', result, { inFlight: IN_FLIGHT, workers: WORKERS }))
      ctx.point(rows.at(-1))
    })
    return { rows }
  }
}
