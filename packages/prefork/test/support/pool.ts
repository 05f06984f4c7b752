import { rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { FAST_POOL, PoolProcess, TSX, type PoolEvent as BaseEvent } from '@net-server/test-support'

/** One JSON line from the fixture pool: the pool's events, and the answer to `status`. */
export interface PoolEvent extends BaseEvent {
  readonly children?: ReadonlyArray<{ pid: number, state: string, jobs: number, generation: number, retiring: boolean }>
  readonly limits?: { minServers: number, maxServers: number }
}

export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

/** A path for the fixture's `--boot-fault` file (what it holds makes children fail at boot), removed when the test ends. */
export function faultFile (name = 'fault'): string {
  const file = join(tmpdir(), `nsz-prefork-${name}-${process.pid}-${Math.random().toString(36).slice(2)}`)
  onTestFinished(() => { rmSync(file, { force: true }) })
  return file
}

/**
 * The fixture pool (a LineServer: one line in, one line out over TCP) running as a
 * real process; it is killed with its children when the test ends.
 */
export class Pool extends PoolProcess<PoolEvent> {
  /** The TCP port it listens on, from its `listening` event. */
  port = 0

  constructor (args: readonly string[], options: { module?: string, detached?: boolean } = {}) {
    super(process.execPath, [...TSX, fixture(options.module ?? 'line-pool.ts'), ...args], {
      stdin: true, group: options.detached ?? false, timeout: 15_000
    })
  }

  protected override record (e: PoolEvent): void {
    super.record(e)
    if (e.event === 'listening') this.port = Number(/:(\d+)$/.exec(e.endpoints![0]!)![1])
  }

  /** Asks the parent for its tally. */
  async status (): Promise<PoolEvent> {
    const from = this.events.length
    this.write('status\n')
    return await this.event((e) => e.event === 'status', 'status', from)
  }

  /**
   * Asks for the tally until `match` holds: for changes that no event reports (a
   * signal that only moves the limits). Each query waits for its answer.
   */
  async statusUntil (match: (status: PoolEvent) => boolean, what: string, timeout = 10_000): Promise<PoolEvent> {
    const deadline = Date.now() + timeout
    for (;;) {
      const status = await this.status()
      if (match(status)) return status
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`)
    }
  }

  /** One request line, one reply line. */
  async request (line: string, timeout = 15_000): Promise<string> {
    return await new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1')
      let data = ''
      socket.setEncoding('utf8')
      socket.setTimeout(timeout, () => socket.destroy(new Error(`no reply to '${line}' within ${timeout} ms`)))
      socket.on('data', (chunk: string) => { data += chunk })
      socket.on('error', reject)
      socket.on('close', () => resolve(data.trim()))
      socket.write(`${line}\n`)
    })
  }
}

/** Starts a fixture pool and waits until it listens; it is killed when the test ends. */
export async function startPool (args: readonly string[], options: { module?: string, detached?: boolean, listening?: boolean } = {}): Promise<Pool> {
  const pool = new Pool([...FAST_POOL, ...args], options)
  if (options.listening !== false) await pool.event((e) => e.event === 'listening', 'listening')
  return pool
}
