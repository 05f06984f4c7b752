/**
 * Errors with a stable `code`, one factory per code. Option errors are plain
 * `TypeError` / `RangeError` (see `options.ts`); everything else that a caller can
 * receive is an {@link NszError}. `docs/errors.md` lists every code.
 */

/** An error with a stable machine-readable `code`; ZeroMQ and system errors ride along as `cause`. */
export class NszError extends Error {
  /** Stable identifier, e.g. `NSZ_ERR_PID_FILE_LOCKED`. */
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NszError'
    this.code = code
  }
}

/** Codes of `@net-server/core`. */
export const CoreErrorCode = {
  UNKNOWN_OPTION: 'NSZ_ERR_UNKNOWN_OPTION',
  CONF_FILE: 'NSZ_ERR_CONF_FILE',
  COMMAND_LINE: 'NSZ_ERR_COMMAND_LINE',
  PID_FILE_LOCKED: 'NSZ_ERR_PID_FILE_LOCKED',
  PID_FILE: 'NSZ_ERR_PID_FILE',
  PRIVILEGES: 'NSZ_ERR_PRIVILEGES',
  ALREADY_RUNNING: 'NSZ_ERR_ALREADY_RUNNING'
} as const

/** An option name that no class in the hierarchy declares. */
export function unknownOptionError (name: string, source: string, known: readonly string[]): NszError {
  const hint = closest(name, known)
  return new NszError(CoreErrorCode.UNKNOWN_OPTION,
    `unknown option '${name}' in ${source}${hint === undefined ? '' : ` (did you mean '${hint}'?)`}`)
}

/** A conf file that cannot be read or has a line that does not parse. */
export function confFileError (file: string, detail: string, cause?: unknown): NszError {
  return new NszError(CoreErrorCode.CONF_FILE, `conf file ${file}: ${detail}`, { cause })
}

/** A command-line argument that does not parse. */
export function commandLineError (detail: string): NszError {
  return new NszError(CoreErrorCode.COMMAND_LINE, `command line: ${detail}`)
}

/** The pid file names a process that is still alive. */
export function pidFileLockedError (file: string, pid: number): NszError {
  return new NszError(CoreErrorCode.PID_FILE_LOCKED,
    `pid file ${file} belongs to running process ${pid}: stop that server first, or choose another options.pidFile`)
}

/** The pid file cannot be read, written or removed. */
export function pidFileError (file: string, detail: string, cause?: unknown): NszError {
  return new NszError(CoreErrorCode.PID_FILE, `pid file ${file}: ${detail}`, { cause })
}

/** `user` / `group` could not be looked up or switched to. */
export function privilegesError (detail: string, cause?: unknown): NszError {
  return new NszError(CoreErrorCode.PRIVILEGES, detail, { cause })
}

/** `run()` was called on a server that is already running. */
export function alreadyRunningError (): NszError {
  return new NszError(CoreErrorCode.ALREADY_RUNNING, 'run() was called twice on the same server')
}

function closest (name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function distance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
