import { closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import pino from 'pino'

/**
 * Net::Server's log levels: 0 error, 1 warning, 2 notice, 3 info, 4 debug.
 * A message is written when its level is at most `options.logLevel`.
 */
export type LogLevel = 0 | 1 | 2 | 3 | 4

/** Level names, indexed by {@link LogLevel}. */
export const LOG_LEVEL_NAMES = ['error', 'warn', 'notice', 'info', 'debug'] as const

/**
 * Where a server's log lines go. The server filters by `logLevel` before it calls
 * `write`, so an implementation writes everything it is given. Register one under
 * the `LOGGER` token to replace the default {@link PinoLogger}.
 */
export interface Logger {
  /** Writes one record. */
  write (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void
  /** Reopens the destination file (after log rotation; USR1); `false` when it could not, having logged why. */
  reopen? (): boolean | void
  /** Flushes and releases the destination when the server closes. */
  close? (): void
}

/** Options of the default logger. */
export interface PinoLoggerOptions {
  /** A file to append to; standard error when absent. */
  readonly file?: string | undefined
  /** Bound into every record, e.g. `{ role: 'broker' }`. */
  readonly base?: Readonly<Record<string, unknown>>
}

/**
 * The default {@link Logger}: pino writing JSON lines synchronously (nothing is
 * lost when a process exits) to standard error or `logFile`, with a `notice` level
 * between `info` and `warn` for Net::Server's level 2.
 */
export class PinoLogger implements Logger {
  readonly #destination: pino.DestinationStream & { reopen?: () => void, flushSync?: () => void, end?: () => void }
  readonly #logger: pino.Logger<'notice'>
  readonly #file: string | undefined

  constructor (options: PinoLoggerOptions = {}) {
    this.#file = options.file
    this.#destination = pino.destination({ dest: options.file ?? 2, sync: true, mkdir: options.file !== undefined })
    this.#logger = pino<'notice'>({
      level: 'debug',
      customLevels: { notice: 35 },
      formatters: { level: (label) => ({ level: label }) },
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime
    }, this.#destination)
  }

  write (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void {
    const method = LOG_LEVEL_NAMES[level]
    if (fields === undefined) this.#logger[method](message)
    else this.#logger[method](fields, message)
  }

  /**
   * Reopens `file` (after it was moved away). When it cannot be opened, for instance
   * because a server running as `user` may not create files in its directory, a
   * warning goes to the file still open, and logging goes on there.
   */
  reopen (): boolean {
    if (this.#file === undefined) return true
    try {
      // Open it here first: pino's destination reports a failed reopen as an 'error'
      // event that nothing can catch, which would end the process.
      mkdirSync(dirname(this.#file), { recursive: true })
      closeSync(openSync(this.#file, 'a'))
    } catch (err) {
      this.write(1, `cannot reopen the log file ${this.#file}: ${(err as Error).message}; logging goes on to the file that was open`)
      return false
    }
    this.#destination.reopen?.()
    return true
  }

  close (): void {
    this.#destination.flushSync?.()
    if (this.#file !== undefined) this.#destination.end?.()
  }
}
