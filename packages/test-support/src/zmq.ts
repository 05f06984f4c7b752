/**
 * ZeroMQ in tests: loopback endpoints with a port the system picks, and sockets
 * closed when the test ends.
 */
import net from 'node:net'
import { onTestFinished } from 'vitest'
import { Router, type Socket } from 'zeromq'

/** Bind here: loopback, a port the system picks (read it back from `lastEndpoint`). */
export const LOOPBACK = 'tcp://127.0.0.1:*'

/** Closes `socket` when the test ends. */
export function track<S extends Socket> (socket: S): S {
  onTestFinished(() => { socket.close() })
  return socket
}

/** An endpoint where nothing listens: a loopback port that was bound and released. */
export async function deadEndpoint (): Promise<string> {
  const socket = new Router({ linger: 0 })
  await socket.bind(LOOPBACK)
  const endpoint = socket.lastEndpoint!
  socket.close()
  return endpoint
}

/** Two TCP ports that were free a moment ago, from the system. */
export async function freePorts (): Promise<[number, number]> {
  const servers = [net.createServer(), net.createServer()]
  const ports = await Promise.all(servers.map(async (s) => await new Promise<number>((resolve) => {
    s.listen(0, '127.0.0.1', () => { resolve((s.address() as net.AddressInfo).port) })
  })))
  await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))))
  return [ports[0]!, ports[1]!]
}
