/**
 * What a server writes to its log about its broker's losses: each `loss` event, each job
 * timeout (504) and each descriptor shortage, through a {@link RateLimiter} so that a
 * flood gives one line per kind and window; and a warning at start when the open-files
 * limit is low.
 * @internal
 */
import { readFileSync } from 'node:fs'
import type { LogLevel } from '@net-server/core'
import type { Broker } from './broker.js'
import { RateLimiter } from './rate-limit.js'
import type { LossKind } from './types.js'

/** Writes one log line at a level (Net::Server's: 0 error … 4 debug). */
export type LogLine = (level: LogLevel, message: string) => void

/** Below this soft limit of open files, the broker warns at start. */
export const LOW_OPEN_FILES = 4096

/**
 * Running out of descriptors, a job timeout (504): warning (1). A worker dropped for a
 * fault, a READY or a connection refused, a client over its budget: notice (2). Any
 * other loss: info (3).
 */
function levelOf (kind: LossKind | 'descriptors' | 'jobTimeout'): LogLevel {
  if (kind === 'descriptors' || kind === 'jobTimeout') return 1
  if (kind.startsWith('workerDropped:') || kind.startsWith('registrationRefused:') || kind.startsWith('zapRefused:') || kind === 'undelivered:overBudget') return 2
  return 3
}

/**
 * Logs every loss the broker reports, each job timeout (504) and each descriptor
 * shortage, rate-limited per kind (the first line at once, then "N more in the last
 * 10 s"). `peerName` says how a peer is written (a server hides its children's
 * routing-id tags behind it). Returns a function that writes the pending summaries
 * and stops.
 */
export function logBrokerLosses (broker: Broker, log: LogLine, windowMs?: number, peerName: (peer: string) => string = (peer) => peer): () => void {
  const limiter = new RateLimiter((kind, line) => { log(levelOf(kind as LossKind), line) }, windowMs)
  broker.on('loss', (kind, peer, detail) => { limiter.note(kind, `${kind}: ${detail} (peer ${peerName(peer)})`) })
  broker.on('jobTimeout', (worker, jobId) => {
    limiter.note('jobTimeout', `jobTimeout: job ${jobId} ran past jobTimeout (${broker.options.jobTimeout} ms) on worker ${worker.pid ?? worker.id}: answered 504; the worker is replaced${worker.retiring ? ' once its other jobs are answered' : ''} (a child of this server is killed, a remote worker dropped)`)
  })
  broker.on('descriptorsExhausted', (side, code) => {
    limiter.note('descriptors', `${side}: out of file descriptors (${code}): new connections are refused until some close; raise the open-files limit (ulimit -n)`)
  })
  return () => { limiter.close() }
}

/** The soft limit of open files of this process, from `/proc/self/limits`; `undefined` where it cannot be read. */
export function openFilesLimit (limits = '/proc/self/limits'): number | undefined {
  let text: string
  try {
    text = readFileSync(limits, 'utf8')
  } catch {
    return undefined
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(text)?.[1]
  if (soft === undefined) return undefined
  return soft === 'unlimited' ? Infinity : Number(soft)
}

/** Warns (level 1) when the open-files limit would cap the clients and workers the broker can hold. */
export function warnLowOpenFiles (log: LogLine, limit = openFilesLimit()): void {
  if (limit === undefined || limit >= LOW_OPEN_FILES) return
  log(1, `the open-files limit is ${limit} (ulimit -n): the broker can hold fewer than ${limit} connections, clients and workers together; raise it (ulimit -n, or LimitNOFILE= in a systemd unit) to at least ${LOW_OPEN_FILES}`)
}
