/**
 * One connection of a {@link WorkerAgent} to the broker, as plain functions: the DEALER
 * it opens for each connection, the back-off before the next one, and the frames of a
 * reply in the framing that the connection agreed on. The agent keeps the state (its
 * generation, liveness, slots); these decide from what it passes.
 * @internal
 */
import { randomBytes } from 'node:crypto'
import type { Dealer } from 'zeromq'
import { encodeCompactReply, encodeReply, encodeRfc7Reply, type Body } from '@net-server/client'
import { isIpv6Endpoint } from './endpoints.js'
import { workerConnectError } from './errors.js'
import type { DisconnectReason } from './events.js'
import type { ResolvedWorkerAgentOptions } from './options.js'
import type { SocketFactory } from './tokens.js'

/** Makes the DEALER of a new connection and connects it to `options.endpoint`; throws `workerConnectError` when it cannot. */
export function openDealer (options: ResolvedWorkerAgentOptions, sockets: SocketFactory): Dealer {
  // sendTimeout 0: a send either queues at once or fails, and skips the writability
  // check that a blocking send makes first (a syscall per reply). A DEALER that has
  // connected queues messages for the broker even while the connection is down, so
  // a send fails only past the high-water mark (1000 messages), see #onSendFailure.
  const socket = sockets.dealer({
    ...options.socketOptions,
    linger: options.linger,
    sendTimeout: 0,
    ipv6: isIpv6Endpoint(options.endpoint),
    // A fresh id per connection: a ROUTER refuses an id it still holds from the last one.
    ...(options.routingIdPrefix === undefined ? {} : { routingId: options.routingIdPrefix + randomBytes(6).toString('hex') })
  })
  try {
    socket.connect(options.endpoint)
  } catch (err) {
    socket.close()
    throw workerConnectError(options.endpoint, err)
  }
  return socket
}

/**
 * How long to wait before the next connection, and the back-off after it. A DISCONNECT
 * on a connection that worked is answered at once (RFC 7); anything else waits, twice
 * as long each time (up to `maxInterval`) until a connection works again.
 */
export function reconnectDelay (reason: DisconnectReason, healthy: boolean, backoff: number, maxInterval: number): { delay: number, backoff: number } {
  if (reason === 'disconnect' && healthy) return { delay: 0, backoff }
  return { delay: backoff, backoff: Math.min(backoff * 2, maxInterval) }
}

/** A REPLY in the connection's framing: compact, MDP/0.1 with the extension (acknowledged), or RFC 7. */
export function replyFrames (compact: boolean, acked: boolean, idFrame: Buffer, body: Body, status: number): Buffer[] {
  if (compact) return encodeCompactReply(idFrame, body, status)
  return acked ? encodeReply(idFrame, body, status) : encodeRfc7Reply(idFrame, body, status)
}
