/**
 * `cpu5ms`: a 5 ms CPU-bound job with 1 and with 2 workers, under 4 REQ clients so
 * that every worker is always busy; the speedup is the ratio of the two throughputs.
 */
import { defineScenario } from '../lib/scenario.js'
import { round } from '../lib/stats.js'

const CLIENTS = 4

export default defineScenario({
  name: 'cpu5ms',
  description: 'a 5 ms CPU-bound job with 1 and with 2 workers (4 REQ clients); speedup',
  async measure (stage) {
    const points = []
    for (const workers of [1, 2]) {
      const point = await stage.withServer({ appName: 'cpu5ms', workers }, async server => {
        const result = await stage.load('req-load', { endpoint: server.frontend, clients: CLIENTS, payload: 'x' })
        return stage.record('nsz', `w=${workers}`, result, { clients: CLIENTS, workers })
      }, [[`w=${workers}`, { clients: CLIENTS, workers }]])
      points.push(point)
    }
    const [one, two] = points
    if (one && two) return { speedup: round(two.throughput / one.throughput) }
  }
})
