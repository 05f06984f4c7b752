/**
 * `fairness`: 90 % 1 ms and 10 % 200 ms jobs (both asynchronous waits) on 4 workers;
 * the wait of the short jobs and the count of short jobs that waited while a worker had
 * a free slot (lib/fairness.js defines it; the target is 0). Two runs: one job per
 * worker with 6 REQ clients, and `--concurrency 4` (16 slots) with 24 clients, more
 * than the slots, so that jobs do queue.
 */
import { analyseFairness } from '../lib/fairness.js'
import { defineScenario } from '../lib/scenario.js'

const WORKERS = 4
const RUNS = [{ slots: 1, clients: 6, key: 'c=6' }, { slots: 4, clients: 24, key: 'c=24 slots=4' }]

export default defineScenario({
  name: 'fairness',
  description: '90 % 1 ms and 10 % 200 ms jobs, 4 workers (1 and 4 slots each): p99 wait of the short jobs',
  measure: async stage => {
    const metrics = {}
    for (const { slots, clients, key } of RUNS) {
      const extra = { clients, workers: WORKERS, slots }
      const analysis = await stage.withServer({ appName: 'fairness', workers: WORKERS, args: ['--concurrency', String(slots)] }, async server => {
        const result = await stage.load('req-load', {
          endpoint: server.frontend, clients, mix: { long: 0.1 }, collect: 'timeline', seconds: Math.max(2 * stage.config.seconds, 4)
        })
        const analysis = analyseFairness(result.timeline, stage.config.fairnessToleranceMs, slots)
        stage.record('nsz', key, result, { ...extra, shortWaitP99: analysis.shortWaitP99, violations: analysis.violations })
        return analysis
      }, [[key, extra]])
      // The one-slot run's analysis stays the scenario's metrics, as before; the other is nested.
      if (slots === 1) Object.assign(metrics, analysis)
      else metrics[`slots${slots}`] = analysis
    }
    return metrics
  }
})
