/**
 * `async10ms`: 10 ms asynchronous jobs, 4 workers, 100 concurrent REQ clients. The
 * ideal is 4 workers x 100 jobs per second = 400 per second; efficiency is the
 * achieved throughput over that ideal.
 */
import { defineScenario } from '../lib/scenario.js'
import { round } from '../lib/stats.js'

const WORKERS = 4
const CLIENTS = 100
const IDEAL = WORKERS * 1000 / 10

export default defineScenario({
  name: 'async10ms',
  description: '10 ms asynchronous jobs, 4 workers, 100 REQ clients; efficiency against the ideal 400/s',
  measure: stage => stage.withServer({ appName: 'sleep10ms', workers: WORKERS }, async server => {
    const result = await stage.load('req-load', {
      endpoint: server.frontend, clients: CLIENTS, payload: 'x', collect: 'number', seconds: Math.max(stage.config.seconds, 3)
    })
    const efficiency = round(result.throughput / IDEAL)
    // Node timers fire late, never early: the job's own mean wait sets the reachable ceiling.
    const meanJobMs = round(result.meanNumber)
    stage.record('nsz', `c=${CLIENTS}`, result, { clients: CLIENTS, workers: WORKERS, efficiency, meanJobMs })
    return { ideal: IDEAL, efficiency, meanJobMs, jobBoundIdeal: round(WORKERS * 1000 / result.meanNumber) }
  }, [[`c=${CLIENTS}`, { clients: CLIENTS, workers: WORKERS }]])
})
