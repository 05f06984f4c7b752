/**
 * `pipelined`: 256 requests in flight on one connection: the project's `Client`
 * against the job server (4 workers), and a zeromq.js DEALER against the echo.
 */
import { PAYLOAD_64 } from '../lib/measure.js'
import { defineScenario } from '../lib/scenario.js'

const IN_FLIGHT = 256
const WORKERS = 4
const KEY = `inflight=${IN_FLIGHT}`

export default defineScenario({
  name: 'pipelined',
  description: 'the pipelined Client with 256 requests in flight (4 workers), beside a DEALER on the echo',
  async measure (stage) {
    const load = (kind, endpoint) => stage.load('pipe-load', { kind, endpoint, inFlight: IN_FLIGHT, payload: PAYLOAD_64 })
    await stage.withEcho(async echo => {
      stage.record('echo', KEY, await load('dealer', echo.frontend), { inFlight: IN_FLIGHT })
    })
    await stage.withServer({ appName: 'uppercase', workers: WORKERS }, async server => {
      const result = await load('client', server.frontend)
      if (result.type === 'skip') stage.log(`  skipped: ${result.reason}`)
      stage.record('nsz', KEY, result, { inFlight: IN_FLIGHT, workers: WORKERS })
    }, [[KEY, { inFlight: IN_FLIGHT, workers: WORKERS }]])
  }
})
