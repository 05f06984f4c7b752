/**
 * The server and pool tests' fixture server (`fixtures/server-app.ts` or the
 * synopsis, `fixtures/uppercase-server.ts`) run as a real process, its JSON event
 * lines recorded, and the clients that talk to it, closed when the test ends.
 */
import { Client, LazyPirateClient, type ClientOptions, type LazyPirateClientOptions } from '@net-server/client'
import { FAST_POOL, PoolProcess, TSX, type PoolEvent } from '@net-server/test-support'
import { connectable } from '../../src/endpoints.js'
import { lazyClient, pipelinedClient } from './clients.js'
import { fixture } from './fixture.js'

/** One JSON line from a fixture server's standard output. */
export interface ServerEvent extends PoolEvent {
  readonly reason?: string
  /** `jobStart` lines of the `count` job: jobs running in that worker at once. */
  readonly running?: number
}

/** Short pool intervals so that tests run fast; a test adds or overrides flags after these. */
export const FAST = [...FAST_POOL, '--port', '0,0', '--child-start-timeout', '20', '--heartbeat-interval', '0.2']

/** A fixture server running as a real process, its pool and its broker's workers followed from the events. */
export class ServerProcess extends PoolProcess<ServerEvent> {
  /** Pids of the workers in the broker's table (fixtures of server-app.ts report them). */
  readonly workers = new Set<number>()
  frontend = ''
  backend = ''

  /** Starts `fixtures/<module>` with `args`; with `shared`, the caller kills it (from `afterAll`). */
  constructor (module: string, args: readonly string[], options: { shared?: boolean } = {}) {
    super(process.execPath, [...TSX, fixture(module), ...args], { cleanup: options.shared !== true })
  }

  protected override record (e: ServerEvent): void {
    super.record(e)
    if (e.event === 'listening') {
      this.frontend = connectable(e.endpoints![0]!)
      this.backend = connectable(e.endpoints![1] ?? '')
    }
    if (e.event === 'childExit') this.workers.delete(e.pid!)
    if (e.event === 'workerReady' && e.pid !== undefined) this.workers.add(e.pid)
    if (e.event === 'workerGone' && e.pid !== undefined) this.workers.delete(e.pid)
  }

  /** Like {@link PoolProcess.settled}, and each of those children is in the broker's worker table. */
  async serving (n: number, timeout = 30_000): Promise<number[]> {
    await this.until(() => this.ready().length === n && this.live.size === n && this.ready().every((pid) => this.workers.has(pid)),
      `${n} children serving`, timeout)
    return this.ready().sort((a, b) => a - b)
  }
}

/**
 * Starts a fixture server and waits until it listens; it is killed when the test ends.
 * With `shared`, the caller kills it (from `afterAll`, for a server several tests share).
 */
export async function startServer (
  args: readonly string[],
  options: { kind?: string, listening?: boolean, shared?: boolean } = {}
): Promise<ServerProcess> {
  // server-app.ts takes its kind first; uppercase-server.ts (the synopsis) takes none.
  const server = options.kind === undefined
    ? new ServerProcess('uppercase-server.ts', [...FAST, ...args], options)
    : new ServerProcess('server-app.ts', [options.kind, ...FAST, ...args], options)
  if (options.listening !== false) await server.event((e) => e.event === 'listening', 'listening')
  return server
}

/** A project client on `endpoint` that does not retry, closed when the test ends. */
export function client (endpoint: string, options: ClientOptions = {}): Client {
  return pipelinedClient({ endpoint, timeout: 15_000, retries: 0, ...options })
}

/** A lazy pirate client on `endpoint` that does not retry, closed when the test ends. */
export function lazyPirate (endpoint: string, options: LazyPirateClientOptions = {}): LazyPirateClient {
  return lazyClient({ endpoint, timeout: 15_000, retries: 0, ...options })
}
