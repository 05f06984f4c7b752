/**
 * Promises with a deadline: waits that fail with a message saying what did not
 * happen, instead of a test that hangs until the runner's own timeout.
 */
import type { EventEmitter } from 'eventemitter3'
import { onTestFinished } from 'vitest'

/**
 * Resolves as `promise` does; rejects when it has not settled within `ms`.
 *
 * @example
 * await within(once(child, 'exit'), 5000, 'the worker to exit')
 */
export async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves with what `promise` rejects with; fails when it resolves. */
export async function rejection (promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/** What {@link failOnRejection} saw of a promise that runs beside the test. */
export interface Watched {
  /** The promise's rejection, once it has rejected (its message prefixed with what it was). */
  readonly error: Error | undefined
}

/**
 * Watches a promise that runs beside the test and that nothing awaits (a serve loop,
 * a receive loop, a send queue): should it reject, the test fails when it ends, with
 * that error and `what` it was, instead of the failure being lost and the test
 * failing later by some timeout. A helper that can fail sooner reads `error`.
 */
export function failOnRejection (promise: Promise<unknown>, what: string): Watched {
  const watched: { error: Error | undefined } = { error: undefined }
  promise.catch((err: unknown) => {
    watched.error = new Error(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  })
  onTestFinished(() => { if (watched.error !== undefined) throw watched.error })
  return watched
}

/** A promise and its resolve function: for jobs and steps that a test releases. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  readonly resolve: (value: T) => void
}

/** A new {@link Deferred}, pending until the test calls `resolve`. */
export function deferred<T = void> (): Deferred<T> {
  let settle!: (value: T) => void
  const promise = new Promise<T>((resolve) => { settle = resolve })
  return { promise, resolve: settle }
}

/**
 * The arguments of the next `event` of `emitter` that satisfies `accept`, within
 * `ms`. Call it before the action that causes the event.
 */
export function nextEvent<E extends EventEmitter<any>, K extends EventEmitter.EventNames<E extends EventEmitter<infer T> ? T : never>> (
  emitter: E, event: K, ms = 5000, accept: (...args: any[]) => boolean = () => true
): Promise<any[]> {
  let listener: ((...args: any[]) => void) | undefined
  const seen = new Promise<any[]>((resolve) => {
    listener = (...args: any[]) => {
      if (!accept(...args)) return
      emitter.off(event as any, listener)
      resolve(args)
    }
    emitter.on(event as any, listener)
  })
  return within(seen, ms, `event ${String(event)}`).finally(() => emitter.off(event as any, listener))
}

/**
 * Resolves once `check` holds, asking every `interval` ms; rejects past `timeout`.
 * Only for state that nothing announces (processes that are not this one's
 * children, a file another process writes): anything with an event waits for it.
 */
export async function eventually (check: () => boolean, what: string | (() => string), timeout: number, interval = 50): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
