/**
 * `bullmq`: baseline (b), BullMQ on a local Redis with 4 worker processes (concurrency 1
 * each, as the job server's 4 workers) running no-op jobs: 16 callers that each add a
 * job and wait for its completion (`rpc`), and a bulk run without waiting callers.
 * Skipped with the reason when Redis cannot be installed or started.
 */
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { startBullmqWorkers } from '../lib/bullmq.js'
import { PAYLOAD_64 } from '../lib/measure.js'
import { startRedis } from '../lib/redis.js'
import { defineScenario } from '../lib/scenario.js'
import { benchDir } from '../lib/servers.js'

const WORKERS = 4
const CLIENTS = 16
const MODES = [['rpc', `c=${CLIENTS}`, { clients: CLIENTS, workers: WORKERS }], ['bulk', 'bulk', { workers: WORKERS }]]

export default defineScenario({
  name: 'bullmq',
  description: 'BullMQ no-op jobs with 4 workers on a local Redis: 16 waiting callers, and a bulk run',
  measure: stage => stage.using(() => startRedis(stage.log.bind(stage)), async redis => {
    const version = createRequire(resolve(benchDir, 'package.json'))('bullmq/package.json').version
    stage.log(`  redis ${redis.version} on 127.0.0.1:${redis.port}, bullmq ${version}`)
    for (const [mode, key, extra] of MODES) {
      const queue = `bench-${mode}`
      await stage.using(() => startBullmqWorkers({ port: redis.port, queue, workers: WORKERS }), async () => {
        const result = await stage.load('bullmq-load', {
          port: redis.port, queue, mode, clients: CLIENTS, workers: WORKERS, payload: PAYLOAD_64, count: stage.config.bullmqJobs, maxSeconds: 120
        })
        stage.record('bullmq', key, result, mode === 'rpc' ? extra : { jobs: stage.config.bullmqJobs, ...extra })
      })
    }
    return { bullmq: version, redis: redis.version }
  }, MODES.map(([, key, extra]) => ['bullmq', key, extra]))
})
