/**
 * The broker's two ROUTERs: how they are made and bound, and their receive loops.
 * @internal
 */
import type { Router } from 'zeromq'
import { FRONTEND_SEND_HWM } from './client-outbox.js'
import { isIpv6Endpoint } from './endpoints.js'
import { brokerBindError } from './errors.js'
import type { ResolvedBrokerOptions } from './options.js'
import type { SocketFactory } from './tokens.js'

/** The frontend and the backend ROUTER, bound. */
export interface BrokerSockets {
  readonly frontend: Router
  readonly backend: Router
}

/**
 * Makes both ROUTERs with the broker's settings and binds them. Rejects with
 * `NSZ_ERR_BROKER_BIND` when a bind fails, or with what `stillWanted` throws once
 * they are bound (a close that came meanwhile); either way both sockets are closed.
 */
export async function bindBrokerSockets (o: ResolvedBrokerOptions, sockets: SocketFactory, stillWanted: () => void): Promise<BrokerSockets> {
  const frontend = sockets.router({
    ...o.frontendSocketOptions,
    mandatory: true,
    sendTimeout: 0,
    // libzmq counts messages, not bytes: it holds few per client, and what does not fit
    // waits in the broker, counted in bytes against maxClientBuffer (client-outbox.ts).
    sendHighWaterMark: FRONTEND_SEND_HWM,
    linger: o.linger,
    ipv6: isIpv6Endpoint(o.frontend)
  })
  const backend = sockets.router({
    ...o.backendSocketOptions,
    mandatory: true,
    sendTimeout: 0,
    linger: o.linger,
    ipv6: isIpv6Endpoint(o.backend),
    // ZMTP heartbeats run in libzmq's I/O thread, so a worker busy with a CPU-bound job
    // still answers them; a dead or unreachable one loses its connection, and the
    // broker's next HEARTBEAT to it fails with EHOSTUNREACH.
    heartbeatInterval: o.heartbeatInterval,
    heartbeatTimeout: o.heartbeatInterval * o.heartbeatLiveness
  })
  try {
    await bindSocket(frontend, 'frontend', o.frontend)
    await bindSocket(backend, 'backend', o.backend)
    stillWanted()
  } catch (err) {
    frontend.close()
    backend.close()
    throw err
  }
  return { frontend, backend }
}

/**
 * Reports, for each socket, an `accept` that failed for want of file descriptors
 * (`EMFILE`, `ENFILE`): new peers cannot connect until some go. The sockets' event
 * observers end when the sockets close.
 */
export function watchDescriptors (sockets: BrokerSockets, report: (side: 'frontend' | 'backend', code: string) => void): void {
  for (const side of ['frontend', 'backend'] as const) {
    sockets[side].events.on('accept:error', ({ error }) => {
      const code = (error as Error & { code?: string }).code ?? error.message
      if (code === 'EMFILE' || code === 'ENFILE') report(side, code)
    })
  }
}

async function bindSocket (socket: Router, name: 'frontend' | 'backend', endpoint: string): Promise<void> {
  try {
    await socket.bind(endpoint)
  } catch (err) {
    throw brokerBindError(name, endpoint, err)
  }
}

/**
 * The one receive loop of a socket, until it closes: each message goes to `handle`.
 * A throw from `handle` goes to `onError` and the loop goes on; a receive that fails
 * on an open socket goes to `onError` and ends the loop.
 */
export async function receiveLoop (socket: Router, handle: (msg: Buffer[]) => void, onError: (err: Error) => void): Promise<void> {
  for (;;) {
    let msg: Buffer[]
    try {
      msg = await socket.receive()
    } catch (err) {
      if (!socket.closed) onError(new Error('broker socket stopped receiving', { cause: err }))
      return
    }
    try {
      handle(msg)
    } catch (err) {
      // A defect in one message's handling must not stop the broker.
      onError(err as Error)
    }
  }
}
