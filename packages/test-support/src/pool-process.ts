import { TestProcess } from './process.js'
import type { ProcessEvent } from './process.js'

/**
 * Command-line flags of a preforking server with short intervals, so that pool tests
 * run fast: a test adds or overrides flags after these (the last one wins).
 */
export const FAST_POOL: readonly string[] = [
  '--log-level', '1',
  '--min-servers', '2', '--max-servers', '8',
  '--min-spare-servers', '0', '--max-spare-servers', '8',
  '--max-requests', '0',
  '--check-for-dead', '0.1', '--check-for-waiting', '0.1', '--check-for-spawn', '0.2',
  '--min-child-ttl', '0', '--child-start-timeout', '15', '--graceful-timeout', '10',
  '--boot-backoff-base', '0.05', '--boot-backoff-max', '0.2'
]

/** An event line of a preforking server's fixture: the pool's own events and the fields they carry. */
export interface PoolEvent extends ProcessEvent {
  readonly pid?: number
  readonly state?: string
  readonly code?: number | string | null
  readonly signal?: string | null
  readonly message?: string
  readonly endpoints?: readonly string[]
}

/**
 * A preforking server run as a {@link TestProcess}: it follows the children from the
 * `childSpawn`, `childState` and `childExit` events, and kills the children still
 * reported alive along with the parent.
 */
export class PoolProcess<E extends PoolEvent = PoolEvent> extends TestProcess<E> {
  /** Live children and their last state, from the events. */
  readonly live = new Map<number, string>()
  /** Every child pid ever reported. */
  readonly seen = new Set<number>()

  protected override record (e: E): void {
    if (e.event === 'childSpawn') { this.live.set(e.pid!, 'starting'); this.seen.add(e.pid!) }
    if (e.event === 'childState' && this.live.has(e.pid!)) this.live.set(e.pid!, e.state!)
    if (e.event === 'childExit') this.live.delete(e.pid!)
  }

  /** Pids of live children that take work (waiting or processing). */
  ready (): number[] {
    return [...this.live].filter(([, s]) => s === 'waiting' || s === 'processing').map(([pid]) => pid)
  }

  /** Waits until exactly `n` children take work and none is starting or exiting; their pids in ascending order. */
  async settled (n: number, timeout = 30_000): Promise<number[]> {
    await this.until(() => this.ready().length === n && this.live.size === n, `${n} ready children`, timeout)
    return this.ready().sort((a, b) => a - b)
  }

  /** Kills every child not reported gone (an exited pid may belong to another process by now), then the parent. */
  override async kill (): Promise<void> {
    for (const pid of this.live.keys()) {
      try { process.kill(pid, 'SIGKILL') } catch {} // gone already
    }
    await super.kill()
  }
}
