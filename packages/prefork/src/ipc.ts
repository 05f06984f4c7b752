/**
 * The pool's own messages between the parent and a child, over the child's IPC
 * channel. Each has an `nsz` field; a message without one is the personality's
 * (`sendToChild`, `parentReadHook`).
 */

/**
 * A child that closes its channel (it is ending) exits within this long: it forces its
 * own exit after it.
 */
export const CHILD_EXIT_GRACE_MS = 1000

/**
 * How long the parent lets a child that lost its channel live on (then one
 * `checkForDead` period more) before it kills it: five times the grace the child gives
 * itself, because on a loaded machine the child's own timer and its exit run late.
 * Killed sooner, a child that was ending by itself would be reported killed, its own
 * exit code lost (a boot failure's 1).
 */
export const CHILD_LINGER_LIMIT_MS = 5 * CHILD_EXIT_GRACE_MS

/** The environment variable that marks a pool child; its value is the parent's pid. */
export const CHILD_ENV = 'NSZ_PREFORK_CHILD'

/** True in a process that a `PreForkServer` started as a child: it has the marker and an IPC channel. */
export function isPoolChild (): boolean {
  return process.env[CHILD_ENV] !== undefined && typeof process.send === 'function'
}

/**
 * What a child tells the parent: it asks for its bootstrap data (once, at boot), it
 * takes work, its state changed, it wants to be replaced, or (busy) its event loop runs.
 */
export type ChildMessage =
  | { nsz: 'boot' }
  | { nsz: 'ready' }
  | { nsz: 'state', state: 'waiting' | 'processing' }
  | { nsz: 'retire', jobs: number, reason?: string }
  | { nsz: 'alive', busy: boolean }

/**
 * What the parent tells a child: its bootstrap data (the answer to `boot`; `null`
 * when there is none), stop (after the request in hand, or at once), or reopen the log.
 */
export type ParentMessage =
  | { nsz: 'bootstrap', data: unknown }
  | { nsz: 'stop', graceful: boolean }
  | { nsz: 'reopen-log' }

/** Any message of the pool itself, in either direction. */
export type PoolMessage = ChildMessage | ParentMessage

/** True when `message` is one of the pool's (it has a string `nsz` field), not a personality's. */
export function isPoolMessage (message: unknown): message is PoolMessage {
  return typeof message === 'object' && message !== null && typeof (message as { nsz?: unknown }).nsz === 'string'
}
