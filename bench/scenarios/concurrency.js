/**
 * `concurrency`: 10 ms asynchronous jobs with several jobs per worker.
 *
 * - 2 workers, 64 REQ clients (enough to fill 2 x 16 slots twice over), `--concurrency 1`
 *   then `--concurrency 16`: the gain of the slots (ideal 16x; the target asks 8x).
 * - 4 workers with `--concurrency 16` and 128 REQ clients, beside BullMQ on a local
 *   Redis with 4 worker processes of `concurrency: 16` running the same 10 ms job, with
 *   128 callers that each add a job and wait for its completion. BullMQ's points are
 *   skipped with the reason when Redis cannot be installed or started.
 */
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { startBullmqWorkers } from '../lib/bullmq.js'
import { startRedis } from '../lib/redis.js'
import { defineScenario } from '../lib/scenario.js'
import { benchDir } from '../lib/servers.js'
import { round } from '../lib/stats.js'

const GAIN_WORKERS = 2
const GAIN_CLIENTS = 64
const SLOTS = 16
const VERSUS_WORKERS = 4
const VERSUS_CLIENTS = 128

const gainKey = slots => `w=${GAIN_WORKERS} slots=${slots} c=${GAIN_CLIENTS}`
const VERSUS_KEY = `w=${VERSUS_WORKERS} slots=${SLOTS} c=${VERSUS_CLIENTS}`

/** One point of the job server: `workers` workers of `slots` slots each, `clients` REQ clients on 10 ms jobs. */
async function nsz (stage, workers, slots, clients, key) {
  return stage.withServer({ appName: 'sleep10ms', workers, args: ['--concurrency', String(slots)] }, async server => {
    const result = await stage.load('req-load', {
      endpoint: server.frontend, clients, payload: 'x', collect: 'number', seconds: Math.max(stage.config.seconds, 3)
    })
    const ideal = workers * slots * 100
    return stage.record('nsz', key, result, { clients, workers, slots, ideal, efficiency: round(Math.min(result.throughput, ideal) / ideal) })
  }, [[key, { clients, workers, slots }]])
}

export default defineScenario({
  name: 'concurrency',
  description: '10 ms jobs with 16 jobs per worker: the gain over one, and BullMQ with concurrency 16',
  measure: async stage => {
    const one = await nsz(stage, GAIN_WORKERS, 1, GAIN_CLIENTS, gainKey(1))
    const many = await nsz(stage, GAIN_WORKERS, SLOTS, GAIN_CLIENTS, gainKey(SLOTS))
    await nsz(stage, VERSUS_WORKERS, SLOTS, VERSUS_CLIENTS, VERSUS_KEY)
    const skip = [['bullmq', VERSUS_KEY, { clients: VERSUS_CLIENTS, workers: VERSUS_WORKERS, slots: SLOTS }]]
    const versions = await stage.using(() => startRedis(stage.log.bind(stage)), async redis => {
      const version = createRequire(resolve(benchDir, 'package.json'))('bullmq/package.json').version
      stage.log(`  redis ${redis.version} on 127.0.0.1:${redis.port}, bullmq ${version}`)
      const queue = 'bench-concurrency'
      await stage.using(() => startBullmqWorkers({ port: redis.port, queue, workers: VERSUS_WORKERS, concurrency: SLOTS, job: 'sleep10ms' }), async () => {
        const result = await stage.load('bullmq-load', {
          port: redis.port, queue, mode: 'rpc', job: 'sleep10ms', clients: VERSUS_CLIENTS, workers: VERSUS_WORKERS, payload: 'x', seconds: Math.max(stage.config.seconds, 3)
        })
        stage.record('bullmq', VERSUS_KEY, result, { clients: VERSUS_CLIENTS, workers: VERSUS_WORKERS, slots: SLOTS })
      })
      return { bullmq: version, redis: redis.version }
    }, skip)
    const gain = one !== undefined && many !== undefined ? round(many.throughput / one.throughput) : undefined
    return { gain, ...versions }
  }
})
