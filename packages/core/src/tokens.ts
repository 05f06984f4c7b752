import type { InjectionToken } from 'tsyringe'
import type { Logger } from './logger.js'

/**
 * Where log records go. Not registered by default: the server then builds a
 * `PinoLogger` from `logFile`. Register a value to replace it:
 * `container.register(LOGGER, { useValue: myLogger })`.
 */
export const LOGGER: InjectionToken<Logger> = Symbol('net-server.logger')

/** Time and timers, replaceable in tests. */
export interface Clock {
  now (): number
  setTimeout (fn: () => void, ms: number): NodeJS.Timeout
  clearTimeout (timer: NodeJS.Timeout | undefined): void
  setInterval (fn: () => void, ms: number): NodeJS.Timeout
  clearInterval (timer: NodeJS.Timeout | undefined): void
}

/** The clock every server uses unless one is registered. */
export const CLOCK: InjectionToken<Clock> = Symbol('net-server.clock')
