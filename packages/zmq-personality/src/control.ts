/**
 * The broker's status endpoint (`nsz status`): how it is bound and guarded, and the
 * loop that answers it, cheap enough that a flood of requests cannot starve the
 * data path.
 * @internal
 */
import { chmodSync } from 'node:fs'
import type { Reply, SocketOptions } from 'zeromq'
import { statusBindError } from './errors.js'
import type { SocketFactory } from './tokens.js'

/** How long one status answer is reused: a flood costs one `status()` per period. */
export const STATUS_CACHE_MS = 100

/** The least time between two answers: at most 500 a second, however many ask. */
export const STATUS_MIN_INTERVAL_MS = 2

/**
 * Binds the REP socket of the status endpoint. A TCP endpoint takes `guard`, the
 * frontend's CURVE and ZAP settings, so that it obeys the frontend's access rules;
 * ZAP sees no address on `ipc://`, so there the socket file gets mode 0600 and only
 * the server's user (and root) can ask. Rejects with `NSZ_ERR_STATUS_BIND`.
 */
export async function bindControlSocket (sockets: SocketFactory, endpoint: string, guard: SocketOptions<Reply>, context: SocketOptions<Reply>): Promise<Reply> {
  const ipc = endpoint.startsWith('ipc://')
  // Few requests wait in libzmq: a flood queues there, bounded, not in the broker.
  const socket = sockets.reply({ ...(ipc ? context : { ...guard, ...context }), linger: 0, receiveHighWaterMark: 100 })
  try {
    await socket.bind(endpoint)
    if (ipc) chmodSync(endpoint.slice('ipc://'.length), 0o600)
  } catch (err) {
    socket.close()
    throw statusBindError(endpoint, err)
  }
  return socket
}

/**
 * Answers `status` requests on `socket` until it closes. The answer is computed at
 * most once every {@link STATUS_CACHE_MS}, and answers are paced at least
 * {@link STATUS_MIN_INTERVAL_MS} apart: a REP socket reads the next request only after
 * it answered, so requests beyond that rate wait in libzmq and cost the broker
 * nothing. `fail` is told when the socket fails while open.
 */
export async function serveControl (socket: Reply, status: () => unknown, fail: (message: string) => void, now: () => number = Date.now): Promise<void> {
  let cached = ''
  let cachedAt = Number.NEGATIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  try {
    for await (const [command] of socket) {
      const wait = last + STATUS_MIN_INTERVAL_MS - now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      let reply: string
      if (command?.toString() === 'status') {
        if (now() - cachedAt >= STATUS_CACHE_MS) {
          cached = JSON.stringify(status())
          cachedAt = now()
        }
        reply = cached
      } else {
        reply = JSON.stringify({ error: `unknown command '${command?.toString() ?? ''}' (try 'status')` })
      }
      last = now()
      await socket.send(reply)
    }
  } catch (err) {
    if (!socket.closed) fail(`status socket failed: ${(err as Error).message}`)
  }
}
