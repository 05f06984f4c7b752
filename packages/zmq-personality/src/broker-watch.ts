/**
 * What a server does on its broker's events: the loss log and the open-files warning,
 * the job rate and the prefork tally from `workerBusy` / `workerIdle`, growth for
 * waiting requests, the replacement of timed-out workers, and its own children's
 * workers taken out of the pool as the children stop and exit.
 * @internal
 */
import type { LogLevel } from '@net-server/core'
import type { Broker } from './broker.js'
import { logBrokerLosses, warnLowOpenFiles } from './broker-log.js'
import { replaceTimedOut } from './timed-out.js'
import type { WorkerInfo } from './types.js'

/** What {@link watchBroker} needs of its server. */
export interface BrokerWatchHost {
  readonly gracefulTimeout: number
  /** Whether the pool grows for waiting requests (`scaleUpWait`). */
  readonly scaleUp: boolean
  log (level: LogLevel, message: string): void
  /** A job went to a worker. */
  jobSent (): void
  /** A worker of the server's own children, or `undefined` for any other. */
  childOf (worker: WorkerInfo): number | undefined
  /** The worker of child `pid`, while it is in the broker's table. */
  workerOf (pid: number): WorkerInfo | undefined
  setChildState (pid: number, state: 'waiting' | 'processing'): void
  killChild (pid: number): void
  requestWaiting (): void
  error (err: Error): void
  /** How a log line names a peer: a child's worker without its routing-id tag. */
  peerName (peer: string): string
  onChildState (listener: (pid: number, state: string) => void): void
  onChildExit (listener: (pid: number) => void): void
}

/** Wires the server to its broker; returns what stops the loss log (its summaries written). */
export function watchBroker (broker: Broker, host: BrokerWatchHost): () => void {
  warnLowOpenFiles((level, message) => { host.log(level, message) })
  const stopLossLog = logBrokerLosses(broker, (level, message) => { host.log(level, message) }, undefined, (peer) => host.peerName(peer))
  const tally = (worker: WorkerInfo, state: 'waiting' | 'processing'): void => {
    const pid = host.childOf(worker)
    if (pid !== undefined) host.setChildState(pid, state)
  }
  broker.on('workerBusy', (worker) => {
    // Every job handed out counts: under load a worker goes from job to job without
    // ever being idle in between.
    host.jobSent()
    // A worker with a free slot is still a spare for the pool's rules.
    if (worker.jobs >= worker.slots) tally(worker, 'processing')
  })
  broker.on('workerIdle', (worker) => { tally(worker, 'waiting') })
  // Only while requests queue: the pool grows when they wait past scaleUpWait.
  if (host.scaleUp) broker.on('requestQueued', () => { host.requestWaiting() })
  // logBrokerLosses says each timeout, rate-limited.
  replaceTimedOut(broker, {
    gracefulTimeout: host.gracefulTimeout,
    // A remote worker's pid is another host's: only our own children are killed.
    kill: (worker) => {
      const pid = host.childOf(worker)
      if (pid !== undefined) host.killChild(pid)
    }
  })
  broker.on('error', (err) => { host.error(err) })
  // A child told to stop gets no more jobs from now on, before the stop reaches it,
  // so that no job is sent to a worker that is closing its socket.
  host.onChildState((pid, state) => {
    const worker = state === 'exiting' ? host.workerOf(pid) : undefined
    if (worker !== undefined) broker.disconnectWorker(worker.id, { wait: true })
  })
  host.onChildExit((pid) => {
    const worker = host.workerOf(pid)
    if (worker !== undefined) broker.disconnectWorker(worker.id, { immediate: true })
  })
  return stopLossLog
}
