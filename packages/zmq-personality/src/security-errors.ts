/**
 * Errors of the security modules (CURVE keys, the ZAP handler), each with a stable
 * `code`; option errors are plain `TypeError` / `RangeError`. `docs/errors.md` lists
 * every code.
 */

import { NszError } from '@net-server/core'

/** Codes of the CURVE and ZAP modules of `@net-server/zmq`. */
export const SecurityErrorCode = {
  /** A key file cannot be read, does not parse, or holds keys that do not match. */
  KEY_FILE: 'NSZ_ERR_KEY_FILE',
  /** The ZAP handler could not bind `inproc://zeromq.zap.01` in its context. */
  ZAP_BIND: 'NSZ_ERR_ZAP_BIND',
  /** The ZAP handler was started twice, or started after `close()`. */
  ZAP_STATE: 'NSZ_ERR_ZAP_STATE'
} as const

/** A code of {@link SecurityErrorCode}. */
export type SecurityErrorCodeValue = typeof SecurityErrorCode[keyof typeof SecurityErrorCode]

/** `NSZ_ERR_KEY_FILE`: `file` cannot be read or parsed, or its keys do not match. */
export function keyFileError (file: string, detail: string, cause?: unknown): NszError {
  return new NszError(SecurityErrorCode.KEY_FILE, `key file ${file}: ${detail}`, cause === undefined ? undefined : { cause })
}

/**
 * `NSZ_ERR_ZAP_BIND`: the handler socket could not bind; EADDRINUSE (in `cause`)
 * means that another ZAP handler already serves the same context.
 */
export function zapBindError (endpoint: string, cause: unknown): NszError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new NszError(SecurityErrorCode.ZAP_BIND,
    `the ZAP handler cannot bind ${endpoint}: ${reason} (one handler per zeromq context)`, { cause })
}

/** `NSZ_ERR_ZAP_STATE`: `start()` on a handler that is running or closed. */
export function zapStateError (state: 'started' | 'closed'): NszError {
  return new NszError(SecurityErrorCode.ZAP_STATE, `the ZAP handler is already ${state}`)
}
