/**
 * The server's side of `jobTimeout`: which worker process is killed, and when.
 * @internal
 */
import type { Broker } from './broker.js'
import type { WorkerInfo } from './types.js'

/** What {@link replaceTimedOut} needs of its server. */
export interface TimedOutHost {
  /** The longest a worker may take to finish its other jobs once one of its jobs timed out. */
  readonly gracefulTimeout: number
  /** Kills the worker's process, when it is one of the server's own. */
  readonly kill: (worker: WorkerInfo) => void
}

/**
 * A worker one of whose jobs ran past `jobTimeout` is replaced: its process is killed
 * once the broker drops it (at once when it ran nothing else or went silent, else once
 * its other jobs are answered), and at the latest `gracefulTimeout` after the timeout,
 * its jobs left then answered 502 (or requeued). The loss log (`logBrokerLosses`) says
 * each timeout.
 */
export function replaceTimedOut (broker: Broker, host: TimedOutHost): void {
  const deadlines = new Map<string, NodeJS.Timeout>()
  broker.on('jobTimeout', (worker) => {
    if (!worker.retiring || deadlines.has(worker.id)) return
    deadlines.set(worker.id, setTimeout(() => {
      deadlines.delete(worker.id)
      if (broker.disconnectWorker(worker.id, { immediate: true })) host.kill(worker)
    }, host.gracefulTimeout).unref())
  })
  broker.on('workerGone', (worker, reason) => {
    clearTimeout(deadlines.get(worker.id))
    deadlines.delete(worker.id)
    if (reason === 'timeout') host.kill(worker)
  })
}
