import { Dealer, Reply, Router, type SocketOptions } from 'zeromq'
import type { InjectionToken } from 'tsyringe'
import type { DispatchPolicy } from './dispatch.js'

/**
 * Makes the ZeroMQ sockets of the broker, its workers and the status endpoint.
 * Replace it to wrap sockets (metrics, a custom context, fault injection in tests):
 *
 * @example
 * const c = createContainer()
 * c.register(SOCKET_FACTORY, { useValue: { ...zeromqSocketFactory, router: (o) => countingRouter(o) } })
 * await new ZmqServer({ app }, c).run()
 */
export interface SocketFactory {
  /** A ROUTER: the broker's frontend and backend. */
  router (options: SocketOptions<Router>): Router
  /** A DEALER: a worker's connection to the backend. */
  dealer (options: SocketOptions<Dealer>): Dealer
  /** A REP: the broker's status endpoint for `nsz status`. */
  reply (options: SocketOptions<Reply>): Reply
}

/** The zeromq.js sockets, in the shared default context. */
export const zeromqSocketFactory: SocketFactory = Object.freeze({
  router: (options: SocketOptions<Router>) => new Router(options),
  dealer: (options: SocketOptions<Dealer>) => new Dealer(options),
  reply: (options: SocketOptions<Reply>) => new Reply(options)
})

/** The {@link SocketFactory} of a `ZmqServer`; `registerDefaults` registers {@link zeromqSocketFactory} unless the user did. */
export const SOCKET_FACTORY: InjectionToken<SocketFactory> = Symbol('net-server.socket-factory')

/**
 * The {@link DispatchPolicy} of a `ZmqServer`'s broker, when its `dispatchPolicy` option
 * is not set (the option wins); `registerDefaults` registers `leastRecentlyUsed` unless
 * the user did.
 *
 * @example
 * const c = createContainer()
 * c.register(DISPATCH_POLICY, { useValue: myPolicy })
 * await new ZmqServer({ app }, c).run()
 */
export const DISPATCH_POLICY: InjectionToken<DispatchPolicy> = Symbol('net-server.dispatch-policy')
