/**
 * BullMQ producer, run as a child process of the harness against the workers of
 * baselines/bullmq-worker.js. Two modes, each answering one `result` IPC message:
 *
 * - `rpc`: `clients` concurrent callers, each adding one job and waiting until a worker
 *   has finished it (the request/reply pattern the job server serves), for `warmup` +
 *   `seconds`; throughput and latency as for the REQ load;
 * - `bulk`: `count` jobs added in batches of 1000, timed from the first add until the
 *   last completion (BullMQ's best case: no caller waits for a reply).
 */
import { Queue, QueueEvents } from 'bullmq'
import { performance } from 'node:perf_hooks'
import { LoadWindow } from '../lib/load-window.js'
import { summarize } from '../lib/stats.js'

const now = () => performance.now()

async function main (config) {
  const connection = { host: '127.0.0.1', port: config.port, maxRetriesPerRequest: null }
  const queue = new Queue(config.queue, {
    connection,
    defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } }
  })
  const events = new QueueEvents(config.queue, { connection })
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()])
  const payload = { body: config.payload }
  try {
    return config.mode === 'bulk'
      ? await bulk(config, queue, events, payload)
      : await rpc(config, queue, events, payload)
  } finally {
    await events.close()
    await queue.close()
  }
}

async function rpc (config, queue, events, payload) {
  process.send({ type: 'started' })
  const window = new LoadWindow(config.warmup, config.seconds)
  await window.loops(config.clients, async () => {
    const job = await queue.add(config.job ?? 'noop', payload)
    await job.waitUntilFinished(events, config.timeoutMs)
  })
  return window.result()
}

async function bulk (config, queue, events, payload) {
  process.send({ type: 'started' })
  const start = now()
  let last = []
  for (let added = 0; added < config.count; added += 1000) {
    const batch = Math.min(1000, config.count - added)
    // Completed jobs are kept so that the final count is read from Redis itself.
    last = await queue.addBulk(Array.from({ length: batch }, () => ({ name: 'noop', data: payload, opts: { removeOnComplete: false } })))
  }
  // The queue is first in, first out: once the last few jobs (as many as workers) have
  // finished, every earlier one has been taken, and no-op jobs end at once.
  await Promise.all(last.slice(-config.workers).map(job => job.waitUntilFinished(events, config.maxSeconds * 1000)))
  const seconds = (now() - start) / 1000
  const { completed } = await queue.getJobCounts('completed')
  return {
    type: 'result',
    ok: completed,
    failed: config.count - completed,
    counted: completed,
    windowSeconds: seconds,
    throughput: completed / seconds,
    latency: summarize([])
  }
}

process.once('message', message => {
  main(message.config).then(
    result => process.send(result, () => process.exit(0)),
    error => process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1))
  )
})
