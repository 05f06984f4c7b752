/**
 * `fairness`: 90 % 1 ms and 10 % 200 ms jobs (both asynchronous waits) from 6 REQ
 * clients on 4 workers; the wait of the short jobs and the count of short jobs that
 * waited while a worker was idle (lib/fairness.js defines it; the target is 0).
 */
import { analyseFairness } from '../lib/fairness.js'
import { defineScenario } from '../lib/scenario.js'

const WORKERS = 4
const CLIENTS = 6

export default defineScenario({
  name: 'fairness',
  description: '90 % 1 ms and 10 % 200 ms jobs, 6 REQ clients, 4 workers: p99 wait of the short jobs',
  measure: stage => stage.withServer({ appName: 'fairness', workers: WORKERS }, async server => {
    const result = await stage.load('req-load', {
      endpoint: server.frontend, clients: CLIENTS, mix: { long: 0.1 }, collect: 'timeline', seconds: Math.max(2 * stage.config.seconds, 4)
    })
    const analysis = analyseFairness(result.timeline, stage.config.fairnessToleranceMs)
    stage.record('nsz', `c=${CLIENTS}`, result, {
      clients: CLIENTS, workers: WORKERS, shortWaitP99: analysis.shortWaitP99, violations: analysis.violations
    })
    return analysis
  }, [[`c=${CLIENTS}`, { clients: CLIENTS, workers: WORKERS }]])
})
