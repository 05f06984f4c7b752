/**
 * The failures a client reports, each with a stable `code`.
 *
 * A request rejects with a {@link ClientError}: test `err.code` (or use
 * {@link isClientError}), not the message, which may change. Errors that stand for a
 * reply status keep it in `status` and the text the server sent in `detail`.
 * `docs/errors.md` lists every code.
 */

import { Status, statusText } from './protocol.js'

/** Every code of the client package. */
export const ClientErrorCode = {
  /** No reply after the last retry. */
  TIMEOUT: 'NSZ_ERR_CLIENT_TIMEOUT',
  /** The client was closed while the request was pending, or before it was made. */
  CLOSED: 'NSZ_ERR_CLIENT_CLOSED',
  /** The reply does not follow the dialect of the request. */
  BAD_REPLY: 'NSZ_ERR_CLIENT_BAD_REPLY',
  /** A ZeroMQ call failed; `cause` holds the ZeroMQ error. */
  SOCKET: 'NSZ_ERR_CLIENT_SOCKET',
  /** The connection to the broker dropped before the reply came, and no retry was left. */
  CONNECTION_LOST: 'NSZ_ERR_CLIENT_CONNECTION_LOST',
  /** Status 400: the server could not parse the request. */
  MALFORMED: 'NSZ_ERR_CLIENT_MALFORMED',
  /** Status 403: the server refused this client. */
  DENIED: 'NSZ_ERR_CLIENT_DENIED',
  /** Status 404: no worker serves the service. */
  UNKNOWN_SERVICE: 'NSZ_ERR_CLIENT_UNKNOWN_SERVICE',
  /** Status 413: the request is larger than the server accepts. */
  TOO_LARGE: 'NSZ_ERR_CLIENT_TOO_LARGE',
  /** Status 500: the job failed; `detail` is the worker's message. */
  APP_ERROR: 'NSZ_ERR_CLIENT_APP_ERROR',
  /** Status 502: the worker died or went silent while it held the job. */
  WORKER_LOST: 'NSZ_ERR_CLIENT_WORKER_LOST',
  /** Status 503: the queue is full or the server is shutting down. */
  UNAVAILABLE: 'NSZ_ERR_CLIENT_UNAVAILABLE',
  /** Status 504: the job ran past the server's job timeout. */
  JOB_TIMEOUT: 'NSZ_ERR_CLIENT_JOB_TIMEOUT'
} as const

/** A code of {@link ClientErrorCode}. */
export type ClientErrorCodeValue = typeof ClientErrorCode[keyof typeof ClientErrorCode]

/** What a {@link ClientError} carries besides its code and message. */
export interface ClientErrorDetails {
  /** The reply status that caused the error, when there was a reply. */
  readonly status?: number
  /** The text of the reply body: the worker's message for status 500. */
  readonly detail?: string
  /** The underlying error, for example a ZeroMQ error with its `code` and `errno`. */
  readonly cause?: unknown
}

/** A failure of a client request, identified by its stable {@link ClientError.code}. */
export class ClientError extends Error {
  override readonly name = 'ClientError'
  /** A stable code from {@link ClientErrorCode}. */
  readonly code: ClientErrorCodeValue
  /** The reply status, when the error stands for one. */
  readonly status?: number
  /** The text the server sent with a failure status (the worker's message for 500). */
  readonly detail?: string

  constructor (code: ClientErrorCodeValue, message: string, details: ClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    if (details.status !== undefined) this.status = details.status
    if (details.detail !== undefined) this.detail = details.detail
  }
}

/** True when `err` is a {@link ClientError}, with the given code when one is passed. */
export function isClientError (err: unknown, code?: ClientErrorCodeValue): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code)
}

/** `NSZ_ERR_CLIENT_TIMEOUT`: no reply to any of `attempts` tries of `timeout` ms each. */
export function timeoutError (attempts: number, timeout: number): ClientError {
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`
  return new ClientError(ClientErrorCode.TIMEOUT, `no reply after ${tries} of ${timeout} ms`)
}

/** `NSZ_ERR_CLIENT_CONNECTION_LOST`: the connection dropped while the last of `attempts` tries waited for its reply. */
export function connectionLostError (attempts: number): ClientError {
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`
  return new ClientError(ClientErrorCode.CONNECTION_LOST, `the connection to the broker dropped before the reply came, after ${tries}`)
}

/** `NSZ_ERR_CLIENT_CLOSED`: the client was closed. */
export function closedError (): ClientError {
  return new ClientError(ClientErrorCode.CLOSED, 'the client is closed')
}

/**
 * `NSZ_ERR_CLIENT_BAD_REPLY`: a reply that does not follow the request's dialect, has
 * an unknown status, or (with the JSON helpers) does not parse.
 */
export function badReplyError (reason: string, details: { readonly status?: number, readonly cause?: unknown } = {}): ClientError {
  return new ClientError(ClientErrorCode.BAD_REPLY, `bad reply: ${reason}`, details)
}

/** `NSZ_ERR_CLIENT_SOCKET`: a ZeroMQ call failed; the ZeroMQ error is the `cause`. */
export function socketError (action: string, cause: unknown): ClientError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new ClientError(ClientErrorCode.SOCKET, `${action} failed: ${reason}`, { cause })
}

function replyError (code: ClientErrorCodeValue, status: number, detail: string | undefined): ClientError {
  const text = statusText(status)
  const message = detail === undefined || detail === '' || detail === text ? text : `${text}: ${detail}`
  return new ClientError(code, message, detail === undefined ? { status } : { status, detail })
}

/** `NSZ_ERR_CLIENT_MALFORMED`: status 400. */
export function malformedError (detail?: string): ClientError {
  return replyError(ClientErrorCode.MALFORMED, Status.MALFORMED, detail)
}

/** `NSZ_ERR_CLIENT_DENIED`: status 403. */
export function deniedError (detail?: string): ClientError {
  return replyError(ClientErrorCode.DENIED, Status.DENIED, detail)
}

/** `NSZ_ERR_CLIENT_UNKNOWN_SERVICE`: status 404. */
export function unknownServiceError (detail?: string): ClientError {
  return replyError(ClientErrorCode.UNKNOWN_SERVICE, Status.NO_SERVICE, detail)
}

/** `NSZ_ERR_CLIENT_TOO_LARGE`: status 413. */
export function tooLargeError (detail?: string): ClientError {
  return replyError(ClientErrorCode.TOO_LARGE, Status.TOO_LARGE, detail)
}

/** `NSZ_ERR_CLIENT_APP_ERROR`: status 500; `detail` is the worker's message. */
export function appError (detail?: string): ClientError {
  return replyError(ClientErrorCode.APP_ERROR, Status.APP_ERROR, detail)
}

/** `NSZ_ERR_CLIENT_WORKER_LOST`: status 502. */
export function workerLostError (detail?: string): ClientError {
  return replyError(ClientErrorCode.WORKER_LOST, Status.WORKER_LOST, detail)
}

/** `NSZ_ERR_CLIENT_UNAVAILABLE`: status 503. */
export function unavailableError (detail?: string): ClientError {
  return replyError(ClientErrorCode.UNAVAILABLE, Status.UNAVAILABLE, detail)
}

/** `NSZ_ERR_CLIENT_JOB_TIMEOUT`: status 504. */
export function jobTimeoutError (detail?: string): ClientError {
  return replyError(ClientErrorCode.JOB_TIMEOUT, Status.TIMEOUT, detail)
}

const BY_STATUS: Readonly<Record<number, (detail?: string) => ClientError>> = {
  [Status.MALFORMED]: malformedError,
  [Status.DENIED]: deniedError,
  [Status.NO_SERVICE]: unknownServiceError,
  [Status.TOO_LARGE]: tooLargeError,
  [Status.APP_ERROR]: appError,
  [Status.WORKER_LOST]: workerLostError,
  [Status.UNAVAILABLE]: unavailableError,
  [Status.TIMEOUT]: jobTimeoutError
}

/**
 * The error for a failure status, from the factory of its code; a status outside
 * {@link Status} (or 200) gives `NSZ_ERR_CLIENT_BAD_REPLY`. Used when a reply arrives.
 */
export function statusError (status: number, detail?: string): ClientError {
  const factory = BY_STATUS[status]
  return factory === undefined ? badReplyError(`unexpected status ${status}`, { status }) : factory(detail)
}
