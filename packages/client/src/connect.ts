/**
 * Socket set-up shared by the clients (internal).
 */

import { curveKeyPair, type Dealer, type Request } from 'zeromq'
import type { ResolvedBaseClientOptions } from './options.js'

const TCP_PORT = /:(\d+)$/

/**
 * Applies the client options to a fresh socket and connects it. An endpoint that
 * libzmq refuses, or a TCP port outside 1-65535 (which libzmq accepts and never
 * reaches), throws a TypeError naming `options.endpoint`.
 */
export function connectSocket<S extends Dealer | Request> (socket: S, options: ResolvedBaseClientOptions): S {
  try {
    // A client that gives up or closes drops its unsent messages: they would only
    // produce replies that nothing waits for, and would keep the process alive.
    socket.linger = 0
    // libzmq reaches an IPv6 address (`tcp://[::1]:6660`) only with ipv6 on.
    if (options.endpoint.startsWith('tcp://[')) socket.ipv6 = true
    if (options.identity !== undefined) socket.routingId = options.identity
  } catch (err) {
    socket.close()
    throw new TypeError(`options.identity is refused by libzmq: ${reason(err)}`, { cause: err })
  }
  if (options.curve !== undefined) {
    try {
      const pair = options.curve.publicKey === undefined ? curveKeyPair() : undefined
      socket.curveServerKey = options.curve.serverKey
      socket.curvePublicKey = options.curve.publicKey ?? pair!.publicKey
      socket.curveSecretKey = options.curve.secretKey ?? pair!.secretKey
    } catch (err) {
      socket.close()
      throw new TypeError(`options.curve is refused by libzmq: ${reason(err)}`, { cause: err })
    }
  }
  try {
    checkPort(options.endpoint)
    socket.connect(options.endpoint)
    return socket
  } catch (err) {
    socket.close()
    if (err instanceof TypeError) throw err
    throw new TypeError(`options.endpoint is not an endpoint this client can connect to: '${options.endpoint}' (${reason(err)})`, { cause: err })
  }
}

function reason (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function checkPort (endpoint: string): void {
  if (!endpoint.startsWith('tcp://')) return
  const port = TCP_PORT.exec(endpoint)
  if (port === null) return // libzmq explains what is wrong
  const n = Number(port[1])
  if (n < 1 || n > 65_535) {
    throw new TypeError(`options.endpoint has a TCP port outside 1-65535: '${endpoint}'`)
  }
}
