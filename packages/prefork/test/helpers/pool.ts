import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

/** One JSON line from the fixture's standard output. */
export interface PoolEvent {
  readonly event: string
  readonly pid?: number
  readonly state?: string
  readonly code?: number | string | null
  readonly signal?: string | null
  readonly message?: string
  readonly endpoints?: readonly string[]
  readonly children?: ReadonlyArray<{ pid: number, state: string, jobs: number, generation: number, retiring: boolean }>
  readonly limits?: { minServers: number, maxServers: number }
}

export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

/** Short intervals so that tests run fast; each test adds or overrides flags after these. */
export const FAST = [
  '--log-level', '1',
  '--min-servers', '2', '--max-servers', '8',
  '--min-spare-servers', '0', '--max-spare-servers', '8',
  '--max-requests', '0',
  '--check-for-dead', '0.1', '--check-for-waiting', '0.1', '--check-for-spawn', '0.2',
  '--min-child-ttl', '0', '--child-start-timeout', '15', '--graceful-timeout', '10',
  '--boot-backoff-base', '0.05', '--boot-backoff-max', '0.2'
]

/** A fixture pool running as a real process, its events recorded, killed at the end of the test. */
export class Pool {
  readonly proc: ChildProcess
  readonly events: PoolEvent[] = []
  /** Live children and their last state, from the events. */
  readonly live = new Map<number, string>()
  /** Every child pid ever reported. */
  readonly seen = new Set<number>()
  readonly exit: Promise<{ code: number | null, signal: string | null }>
  stderr = ''
  port = 0
  readonly #watchers = new Set<() => void>()
  #buffer = ''

  constructor (args: readonly string[], options: { module?: string, detached?: boolean } = {}) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=@net-server/source', fixture(options.module ?? 'line-pool.ts'), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: options.detached ?? false
    })
    this.exit = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        resolve({ code, signal })
        this.#notify()
      })
    })
    this.proc.stdout!.setEncoding('utf8')
    this.proc.stdout!.on('data', (chunk: string) => {
      this.#buffer += chunk
      let eol
      while ((eol = this.#buffer.indexOf('\n')) !== -1) {
        const line = this.#buffer.slice(0, eol)
        this.#buffer = this.#buffer.slice(eol + 1)
        if (line.trim() !== '') this.#record(JSON.parse(line) as PoolEvent)
      }
    })
    this.proc.stderr!.setEncoding('utf8')
    this.proc.stderr!.on('data', (chunk: string) => { this.stderr += chunk })
  }

  #record (e: PoolEvent): void {
    this.events.push(e)
    if (e.event === 'listening') this.port = Number(/:(\d+)$/.exec(e.endpoints![0]!)![1])
    if (e.event === 'childSpawn') { this.live.set(e.pid!, 'starting'); this.seen.add(e.pid!) }
    if (e.event === 'childState' && this.live.has(e.pid!)) this.live.set(e.pid!, e.state!)
    if (e.event === 'childExit') this.live.delete(e.pid!)
    this.#notify()
  }

  #notify (): void {
    for (const watcher of [...this.#watchers]) watcher()
  }

  /** Pids of live children that took work (waiting or processing). */
  ready (): number[] {
    return [...this.live].filter(([, s]) => s === 'waiting' || s === 'processing').map(([pid]) => pid)
  }

  /** Resolves when `condition` holds, re-checked on every event; rejects after `timeout` ms. */
  async until (condition: () => boolean, what: string, timeout = 15_000): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const watcher = (): void => {
        if (!condition()) return
        finish()
        resolve()
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`timed out waiting for ${what}\nevents: ${JSON.stringify(this.events.slice(-30))}\nstderr: ${this.stderr.slice(-3000)}`))
      }, timeout)
      const finish = (): void => {
        clearTimeout(timer)
        this.#watchers.delete(watcher)
      }
      this.#watchers.add(watcher)
    })
  }

  /** The first event from index `from` on that matches. */
  async event (match: (e: PoolEvent) => boolean, what: string, from = 0, timeout = 15_000): Promise<PoolEvent> {
    let found: PoolEvent | undefined
    await this.until(() => (found = this.events.slice(from).find(match)) !== undefined, what, timeout)
    return found!
  }

  /** Waits until exactly `n` children are ready and none is starting or exiting. */
  async settled (n: number, timeout = 15_000): Promise<number[]> {
    await this.until(() => this.ready().length === n && this.live.size === n, `${n} ready children`, timeout)
    return this.ready().sort()
  }

  signal (signal: NodeJS.Signals): void {
    this.proc.kill(signal)
  }

  /** Asks the parent for its tally. */
  async status (): Promise<PoolEvent> {
    const from = this.events.length
    this.proc.stdin!.write('status\n')
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

  /** Kills the parent and every child not reported gone (exited pids may already belong to someone else). */
  async kill (): Promise<void> {
    for (const pid of this.live.keys()) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL')
    await this.exit
  }
}

/** Starts a fixture pool and waits until it listens; it is killed when the test ends. */
export async function startPool (args: readonly string[], options: { module?: string, detached?: boolean, listening?: boolean } = {}): Promise<Pool> {
  const pool = new Pool([...FAST, ...args], options)
  onTestFinished(async () => { await pool.kill() })
  if (options.listening !== false) await pool.event((e) => e.event === 'listening', 'listening')
  return pool
}

/** True while a process with this pid exists. */
export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Waits until none of `pids` exists. They are not this process's children, so
 * nothing signals their end: this checks every 50 ms, up to the deadline.
 */
export async function allGone (pids: readonly number[], timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`still alive after ${timeout} ms: ${pids.filter(alive).join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
