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
  /** Reopens the destination file (after log rotation; USR1 in the parent). */
  reopen? (): void
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
  readonly #ownsFd: boolean

  constructor (options: PinoLoggerOptions = {}) {
    this.#ownsFd = options.file !== undefined
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

  reopen (): void {
    if (this.#ownsFd) this.#destination.reopen?.()
  }

  close (): void {
    this.#destination.flushSync?.()
    if (this.#ownsFd) this.#destination.end?.()
  }
}
