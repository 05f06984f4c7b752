/**
 * BullMQ worker processes for the baselines (baselines/bullmq-worker.js), forked by
 * the harness and stopped together.
 */
import { resolve } from 'node:path'
import { forkTracked, inbox, stopProcess, tail } from './procs.js'
import { benchDir } from './servers.js'

/**
 * Forks `workers` BullMQ workers of `queue` on the Redis at `port`, each with
 * `concurrency` jobs at once running `job` (`noop` or `sleep10ms`), and resolves once
 * all of them are ready, with `stop()`.
 */
export async function startBullmqWorkers ({ port, queue, workers, concurrency = 1, job = 'noop' }) {
  const procs = Array.from({ length: workers }, () => {
    const worker = forkTracked(resolve(benchDir, 'baselines/bullmq-worker.js'), [String(port), queue, String(concurrency), job], { cwd: benchDir })
    tail(worker.stdout)
    tail(worker.stderr)
    worker.messages = inbox(worker, 'bullmq worker')
    return worker
  })
  const stop = () => Promise.all(procs.map(w => stopProcess(w)))
  try {
    await Promise.all(procs.map(w => w.messages.next(['ready'], 30_000)))
  } catch (error) {
    await stop()
    throw error
  }
  return { stop }
}
