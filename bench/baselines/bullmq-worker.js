/**
 * Baseline (b): one BullMQ worker process with concurrency 1 and a no-op job, the
 * counterpart of one job-server worker. Its Redis port and queue name come as
 * arguments; it sends `ready` over IPC once BullMQ reports it ready.
 */
import { Worker } from 'bullmq'

const [port, queueName] = process.argv.slice(2)
const worker = new Worker(queueName, async () => 'ok', {
  connection: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null },
  concurrency: 1,
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 }
})
worker.on('error', error => process.stderr.write(`bullmq worker: ${error.message}\n`))
worker.once('ready', () => process.send({ type: 'ready' }))
process.once('SIGTERM', () => worker.close().then(() => process.exit(0)))
