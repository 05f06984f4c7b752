/**
 * `bullmq`: baseline (b), BullMQ on a local Redis with 4 worker processes (concurrency 1
 * each, as the job server's 4 workers) running no-op jobs: 16 callers that each add a
 * job and wait for its completion (`rpc`), and a bulk run without waiting callers.
 * Skipped with the reason when Redis cannot be installed or started.
 */
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { runLoad } from '../lib/load.js'
import { PAYLOAD_64, row, skipped } from '../lib/measure.js'
import { forkTracked, inbox, stopProcess, tail } from '../lib/procs.js'
import { startRedis } from '../lib/redis.js'
import { benchDir } from '../lib/servers.js'

const WORKERS = 4
const CLIENTS = 16

export default {
  name: 'bullmq',
  description: 'BullMQ no-op jobs with 4 workers on a local Redis: 16 waiting callers, and a bulk run',
  async run (ctx) {
    let redis
    try {
      redis = await startRedis(ctx.log)
    } catch (error) {
      ctx.log(`  skipped: ${error.message}`)
      return {
        rows: [
          skipped('bullmq', 'bullmq', `c=${CLIENTS}`, error.message, { clients: CLIENTS, workers: WORKERS }),
          skipped('bullmq', 'bullmq', 'bulk', error.message, { workers: WORKERS })
        ]
      }
    }
    const version = createRequire(resolve(benchDir, 'package.json'))('bullmq/package.json').version
    ctx.log(`  redis ${redis.version} on 127.0.0.1:${redis.port}, bullmq ${version}`)
    const workers = []
    try {
      const rows = []
      for (const [mode, key] of [['rpc', `c=${CLIENTS}`], ['bulk', 'bulk']]) {
        const queue = `bench-${mode}`
        for (let i = 0; i < WORKERS; i++) {
          const worker = forkTracked(resolve(benchDir, 'baselines/bullmq-worker.js'), [String(redis.port), queue], { cwd: benchDir })
          tail(worker.stdout)
          worker.errors = tail(worker.stderr)
          worker.messages = inbox(worker, 'bullmq worker')
          workers.push(worker)
        }
        await Promise.all(workers.map(w => w.messages.next(['ready'], 30_000)))
        const result = await runLoad('bullmq-load', {
          port: redis.port,
          queue,
          mode,
          clients: CLIENTS,
          workers: WORKERS,
          payload: PAYLOAD_64,
          count: ctx.config.bullmqJobs,
          maxSeconds: 120,
          seconds: ctx.config.seconds,
          warmup: ctx.config.warmup,
          timeoutMs: ctx.config.timeoutMs
        })
        rows.push(row('bullmq', 'bullmq', key, result, mode === 'rpc' ? { clients: CLIENTS, workers: WORKERS } : { jobs: ctx.config.bullmqJobs, workers: WORKERS }))
        ctx.point(rows.at(-1))
        await Promise.all(workers.splice(0).map(w => stopProcess(w)))
      }
      return { rows, metrics: { bullmq: version, redis: redis.version } }
    } finally {
      await Promise.all(workers.map(w => stopProcess(w)))
      await redis.stop()
    }
  }
}
