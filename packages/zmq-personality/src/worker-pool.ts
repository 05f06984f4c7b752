import type { OptionSpecs, Options } from '@net-server/core'
import type { ProcessRole } from '@net-server/prefork'
import type { ResolvedZmqServerOptions } from './server-options.js'
import { ZmqServer, connectable, type ZmqRequest } from './zmq-server.js'

/** Options of {@link WorkerPool}, after resolution. */
export interface ResolvedWorkerPoolOptions extends ResolvedZmqServerOptions {
  /** The broker's backend to connect to, e.g. `tcp://jobs.example:6661`. */
  readonly connect: string
}

/** Options of {@link WorkerPool}, as a user passes them. */
export type WorkerPoolOptions = Options<ResolvedWorkerPoolOptions>

/**
 * A preforked pool of workers for a broker that runs elsewhere: the scale-out
 * path. It is a {@link ZmqServer} without the broker: the parent binds nothing and
 * only supervises; each child connects to `connect` and serves `app` exactly as a
 * local worker does. The broker needs no change to serve local and remote workers
 * together.
 *
 * Overridden phases: `preBind` and `bind` (empty: no broker here) and `workerEndpoint`
 * (the `connect` option); `ZmqServer`'s `stopLoop` and `serverClose` find no broker to
 * drain or close.
 *
 * @example
 * await WorkerPool.run({ connect: 'tcp://10.0.0.5:6661', minServers: 8, app })
 */
export class WorkerPool<
  R extends ResolvedWorkerPoolOptions = ResolvedWorkerPoolOptions,
  Q extends ZmqRequest = ZmqRequest
> extends ZmqServer<R, Q> {
  protected override optionSpecs (): OptionSpecs {
    return {
      ...super.optionSpecs(),
      connect: {
        description: 'the broker backend to connect to (tcp://host:port)',
        default: undefined,
        parse: (raw: string) => raw,
        validate: (value: unknown, name: string) => {
          if (typeof value !== 'string' || !/^(tcp|ipc):\/\/./.test(value)) {
            throw new TypeError(`options.${name} must be the broker's backend endpoint, like tcp://broker.example:6661${value === undefined ? ' (it is required)' : ''}`)
          }
          return value
        }
      }
    }
  }

  /** Without a broker, each child reports its state over IPC, as in any prefork pool. */
  protected override get childReportsState (): boolean {
    return true
  }

  protected override get endpoints (): readonly string[] {
    return [this.options.connect]
  }

  protected override processTitle (role: ProcessRole): string {
    return role === 'parent' ? `zmq workers ${this.options.connect}` : super.processTitle(role)
  }

  protected override childEnv (): Record<string, string> {
    return {}
  }

  /** Empty: the broker, elsewhere, decides where plain requests go. */
  protected override async preBind (): Promise<void> {}

  /** Empty: the pool connects out, it binds nothing. */
  protected override async bind (): Promise<void> {
    this.log(2, `worker pool for ${this.options.connect}`)
  }

  protected override workerEndpoint (): string {
    return connectable(this.options.connect)
  }
}
