/**
 * Baseline (b): one BullMQ worker process, the counterpart of one job-server worker.
 * Its Redis port, queue name, concurrency (default 1) and job (`noop`, the default, or
 * `sleep10ms`: a 10 ms asynchronous wait) come as arguments; it sends `ready` over IPC
 * once BullMQ reports it ready.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'bullmq'

const [port, queueName, concurrency = '1', job = 'noop'] = process.argv.slice(2)
const JOBS = {
  noop: async () => 'ok',
  sleep10ms: async () => { await sleep(10); return 'ok' }
}
const worker = new Worker(queueName, JOBS[job], {
  connection: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null },
  concurrency: Number(concurrency),
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 }
})
worker.on('error', error => process.stderr.write(`bullmq worker: ${error.message}\n`))
worker.once('ready', () => process.send({ type: 'ready' }))
process.once('SIGTERM', () => worker.close().then(() => process.exit(0)))
