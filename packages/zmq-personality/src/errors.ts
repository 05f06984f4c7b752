/**
 * Errors of the ZeroMQ personality. Each failure that a caller can receive carries a
 * stable `code`; one factory builds each code, and `docs/errors.md` lists them all.
 */

import { NszError } from '@net-server/core'

/**
 * An {@link NszError} of the broker or a worker agent, with a stable `code`
 * (`NSZ_ERR_...`); ZeroMQ failures keep theirs in `cause`.
 */
export class ZmqPersonalityError extends NszError {
  declare readonly code: ZmqErrorCode

  constructor (code: ZmqErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'ZmqPersonalityError'
  }
}

/** Every code this package throws or rejects with. */
export const ZmqErrorCodes = {
  /** The broker could not bind one of its sockets. */
  BROKER_BIND: 'NSZ_ERR_BROKER_BIND',
  /** A broker method was called in a state that does not allow it (bound twice, closed). */
  BROKER_STATE: 'NSZ_ERR_BROKER_STATE',
  /** A worker agent could not connect its socket to the broker. */
  WORKER_CONNECT: 'NSZ_ERR_WORKER_CONNECT',
  /** A worker agent method was called in a state that does not allow it. */
  WORKER_STATE: 'NSZ_ERR_WORKER_STATE',
  /** A job was replied to twice. */
  JOB_REPLIED: 'NSZ_ERR_JOB_REPLIED',
  /** The status endpoint (`nsz status`) could not be bound. */
  STATUS_BIND: 'NSZ_ERR_STATUS_BIND',
  /** The metrics endpoint (`metricsPort`) could not listen. */
  METRICS_BIND: 'NSZ_ERR_METRICS_BIND',
  /** A key file cannot be read, does not parse, or holds keys that do not match. */
  KEY_FILE: 'NSZ_ERR_KEY_FILE',
  /** The ZAP handler could not bind `inproc://zeromq.zap.01` in its context. */
  ZAP_BIND: 'NSZ_ERR_ZAP_BIND',
  /** The ZAP handler was started twice, or started after `close()`. */
  ZAP_STATE: 'NSZ_ERR_ZAP_STATE'
} as const
/** A code of {@link ZmqErrorCodes}. */
export type ZmqErrorCode = typeof ZmqErrorCodes[keyof typeof ZmqErrorCodes]

/**
 * The codes of the CURVE and ZAP modules, by their former name.
 * @deprecated Use {@link ZmqErrorCodes}: one table holds every code of this package.
 */
export const SecurityErrorCode = Object.freeze({
  KEY_FILE: ZmqErrorCodes.KEY_FILE,
  ZAP_BIND: ZmqErrorCodes.ZAP_BIND,
  ZAP_STATE: ZmqErrorCodes.ZAP_STATE
})

/** `NSZ_ERR_BROKER_BIND`: binding `endpoint` failed; the ZeroMQ error is the cause. */
export function brokerBindError (socket: 'frontend' | 'backend', endpoint: string, cause: unknown): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.BROKER_BIND, `cannot bind the broker ${socket} to ${endpoint}: ${messageOf(cause)}`, { cause })
}

/** `NSZ_ERR_BROKER_STATE`: the broker cannot do `action` now. */
export function brokerStateError (action: string, state: string): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.BROKER_STATE, `cannot ${action}: the broker is ${state}`)
}

/** `NSZ_ERR_WORKER_CONNECT`: connecting to `endpoint` failed; the ZeroMQ error is the cause. */
export function workerConnectError (endpoint: string, cause: unknown): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.WORKER_CONNECT, `cannot connect the worker to ${endpoint}: ${messageOf(cause)}`, { cause })
}

/** `NSZ_ERR_WORKER_STATE`: the worker agent cannot do `action` now. */
export function workerStateError (action: string, state: string): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.WORKER_STATE, `cannot ${action}: the worker agent is ${state}`)
}

/** `NSZ_ERR_JOB_REPLIED`: `reply()` was called a second time for the same job. */
export function jobRepliedError (jobId: string): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.JOB_REPLIED, `job ${jobId} has already been replied to`)
}

/** `NSZ_ERR_METRICS_BIND`: the metrics HTTP server could not listen on `host:port`; the system error is the cause. */
export function metricsBindError (host: string, port: number, cause: unknown): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.METRICS_BIND, `cannot serve metrics on ${host}:${port} (options.metricsHost, options.metricsPort): ${messageOf(cause)}`, { cause })
}

/** `NSZ_ERR_STATUS_BIND`: the status endpoint could not be bound; the ZeroMQ error is the cause. */
export function statusBindError (endpoint: string, cause: unknown): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.STATUS_BIND, `cannot bind the status endpoint ${endpoint} (options.controlEndpoint, or next to options.pidFile): ${messageOf(cause)}`, { cause })
}

/** `NSZ_ERR_KEY_FILE`: `file` cannot be read or parsed, or its keys do not match. */
export function keyFileError (file: string, detail: string, cause?: unknown): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.KEY_FILE, `key file ${file}: ${detail}`, cause === undefined ? undefined : { cause })
}

/**
 * `NSZ_ERR_ZAP_BIND`: the handler socket could not bind; EADDRINUSE (in `cause`)
 * means that another ZAP handler already serves the same context.
 */
export function zapBindError (endpoint: string, cause: unknown): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.ZAP_BIND,
    `the ZAP handler cannot bind ${endpoint}: ${messageOf(cause)} (one handler per zeromq context)`, { cause })
}

/** `NSZ_ERR_ZAP_STATE`: `start()` on a handler that is running or closed. */
export function zapStateError (state: 'started' | 'closed'): ZmqPersonalityError {
  return new ZmqPersonalityError(ZmqErrorCodes.ZAP_STATE, `the ZAP handler is already ${state}`)
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
