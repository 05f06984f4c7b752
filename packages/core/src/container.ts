import 'reflect-metadata'
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe'
import { CLOCK, type Clock } from './tokens.js'

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer)
}

/**
 * A fresh child container with core's defaults (the clock). Personalities add
 * their own defaults in `registerDefaults()` without replacing what a user
 * registered. Never registers on tsyringe's global container.
 *
 * @example
 * const c = createContainer()
 * c.register(LOGGER, { useValue: myLogger })
 * await new MyServer({}, c).run()
 */
export function createContainer (parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer()
  c.register(CLOCK, { useValue: systemClock })
  return c
}

/** Registers `value` under `token` unless the container (or a parent) already has it. */
export function registerDefault<T> (c: DependencyContainer, token: InjectionToken<T>, value: () => T): void {
  if (!c.isRegistered(token, true)) c.register(token, { useFactory: instanceOnce(value) })
}

function instanceOnce<T> (make: () => T): () => T {
  let made: { value: T } | undefined
  return () => {
    made ??= { value: make() }
    return made.value
  }
}
