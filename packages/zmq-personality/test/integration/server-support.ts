/**
 * Shared pieces of the server and pool tests: a fixture server run as a real process,
 * its JSON event lines recorded, waits on those events with a deadline, the clients
 * closed and every process killed when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { Client, LazyPirateClient, type ClientOptions, type LazyPirateClientOptions } from '@net-server/client'

/** One JSON line from a fixture's standard output. */
export interface ServerEvent {
  readonly event: string
  readonly pid?: number
  readonly state?: string
  readonly code?: number | string | null
  readonly signal?: string | null
  readonly message?: string
  readonly reason?: string
  readonly endpoints?: readonly string[]
}

export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

/** Short pool intervals so that tests run fast; a test adds or overrides flags after these. */
export const FAST = [
  '--port', '0,0',
  '--log-level', '1',
  '--min-servers', '2', '--max-servers', '8',
  '--min-spare-servers', '0', '--max-spare-servers', '8',
  '--max-requests', '0',
  '--check-for-dead', '0.1', '--check-for-waiting', '0.1', '--check-for-spawn', '0.2',
  '--min-child-ttl', '0', '--child-start-timeout', '20', '--graceful-timeout', '10',
  '--boot-backoff-base', '0.05', '--boot-backoff-max', '0.2',
  '--heartbeat-interval', '0.2'
]

const TSX = ['--import', 'tsx', '--conditions=@net-server/source']

/** A fixture server running as a real process, its events recorded. */
export class ServerProcess {
  readonly proc: ChildProcess
  readonly events: ServerEvent[] = []
  /** Live children and their last state, from the events. */
  readonly live = new Map<number, string>()
  /** Every child pid ever reported. */
  readonly seen = new Set<number>()
  /** Pids of the workers in the broker's table (fixtures of server-app.ts report them). */
  readonly workers = new Set<number>()
  readonly exit: Promise<{ code: number | null, signal: string | null }>
  stderr = ''
  frontend = ''
  backend = ''
  readonly #watchers = new Set<() => void>()
  #buffer = ''

  constructor (module: string, args: readonly string[]) {
    this.proc = spawn(process.execPath, [...TSX, fixture(module), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
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
        if (line.trim() !== '') this.#record(JSON.parse(line) as ServerEvent)
      }
    })
    this.proc.stderr!.setEncoding('utf8')
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk
      this.#notify()
    })
  }

  /** True once the server process has exited. */
  get exited (): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null
  }

  get pid (): number {
    return this.proc.pid!
  }

  #record (e: ServerEvent): void {
    this.events.push(e)
    if (e.event === 'listening') {
      this.frontend = connectable(e.endpoints![0]!)
      this.backend = connectable(e.endpoints![1] ?? '')
    }
    if (e.event === 'childSpawn') { this.live.set(e.pid!, 'starting'); this.seen.add(e.pid!) }
    if (e.event === 'childState' && this.live.has(e.pid!)) this.live.set(e.pid!, e.state!)
    if (e.event === 'childExit') { this.live.delete(e.pid!); this.workers.delete(e.pid!) }
    if (e.event === 'workerReady' && e.pid !== undefined) this.workers.add(e.pid)
    if (e.event === 'workerGone' && e.pid !== undefined) this.workers.delete(e.pid)
    this.#notify()
  }

  #notify (): void {
    for (const watcher of [...this.#watchers]) watcher()
  }

  /** Pids of live children that take work (waiting or processing). */
  ready (): number[] {
    return [...this.live].filter(([, s]) => s === 'waiting' || s === 'processing').map(([pid]) => pid)
  }

  /** Resolves when `condition` holds, re-checked on every event; rejects after `timeout` ms. */
  async until (condition: () => boolean, what: string, timeout = 20_000): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        finish()
        reject(new Error(`${why} waiting for ${what}\nevents: ${JSON.stringify(this.events.slice(-30))}\nstderr: ${this.stderr.slice(-3000)}`))
      }
      const watcher = (): void => {
        if (condition()) {
          finish()
          resolve()
        } else if (this.exited) {
          fail(`the server exited (${this.proc.exitCode ?? this.proc.signalCode ?? '?'})`)
        }
      }
      const timer = setTimeout(() => { fail('timed out') }, timeout)
      const finish = (): void => {
        clearTimeout(timer)
        this.#watchers.delete(watcher)
      }
      this.#watchers.add(watcher)
    })
  }

  /** The first event from index `from` on that matches. */
  async event (match: (e: ServerEvent) => boolean, what: string, from = 0, timeout = 20_000): Promise<ServerEvent> {
    let found: ServerEvent | undefined
    await this.until(() => (found = this.events.slice(from).find(match)) !== undefined, what, timeout)
    return found!
  }

  /** Waits until exactly `n` children take work and none is starting or exiting. */
  async settled (n: number, timeout = 30_000): Promise<number[]> {
    await this.until(() => this.ready().length === n && this.live.size === n, `${n} ready children`, timeout)
    return this.ready().sort((a, b) => a - b)
  }

  /** Like {@link settled}, and each of those children is in the broker's worker table. */
  async serving (n: number, timeout = 30_000): Promise<number[]> {
    await this.until(() => this.ready().length === n && this.live.size === n && this.ready().every((pid) => this.workers.has(pid)),
      `${n} children serving`, timeout)
    return this.ready().sort((a, b) => a - b)
  }

  signal (signal: NodeJS.Signals): void {
    this.proc.kill(signal)
  }

  /** Kills the parent and every child not reported gone (exited pids may belong to someone else by now). */
  async kill (): Promise<void> {
    for (const pid of this.live.keys()) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL')
    await this.exit
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
    ? new ServerProcess('uppercase-server.ts', [...FAST, ...args])
    : new ServerProcess('server-app.ts', [options.kind, ...FAST, ...args])
  if (options.shared !== true) onTestFinished(async () => { await server.kill() })
  if (options.listening !== false) await server.event((e) => e.event === 'listening', 'listening')
  return server
}

/** A bound endpoint as a local peer reaches it. */
export function connectable (endpoint: string): string {
  return endpoint.replace(/^tcp:\/\/(0\.0\.0\.0|\*):/, 'tcp://127.0.0.1:')
}

/** A project client on `endpoint`, closed when the test ends. */
export function client (endpoint: string, options: ClientOptions = {}): Client {
  const c = new Client({ endpoint, timeout: 15_000, retries: 0, ...options })
  onTestFinished(() => { c.close() })
  return c
}

/** A lazy pirate client on `endpoint`, closed when the test ends. */
export function lazyPirate (endpoint: string, options: LazyPirateClientOptions = {}): LazyPirateClient {
  const c = new LazyPirateClient({ endpoint, timeout: 15_000, retries: 0, ...options })
  onTestFinished(() => { c.close() })
  return c
}

/** The text of a reply's frames. */
export const texts = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())

/** The process title as `ps` shows it: the command line in /proc. */
export function title (pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replaceAll('\0', ' ').trim()
}

/** CPU time (user + system) a process has used, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  // The command name in parentheses may hold spaces: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The status of a failed request, or 200 when it succeeded. */
export async function statusOf (request: Promise<unknown>): Promise<number> {
  try {
    await request
    return 200
  } catch (err) {
    const status = (err as { status?: number }).status
    if (status === undefined) throw err
    return status
  }
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
