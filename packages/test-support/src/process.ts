/**
 * One harness for the processes that tests start: a fixture server, a pool, the
 * `nsz` command, an example, a Perl or Python peer. It records what the process
 * prints (each stdout line, parsed as a JSON event where the process reports
 * events), waits for a line or an event within a deadline, signals the process and
 * kills it (with its process group, where it leads one) when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { within } from './async.js'

/** How a process ended. */
export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** One JSON line that a process printed on stdout: `{"event":"listening",...}`. */
export interface ProcessEvent {
  readonly event: string
}

/** An event with any other fields, for processes whose events have no type of their own. */
export interface JsonEvent extends ProcessEvent {
  readonly [field: string]: unknown
}

/** How to start a {@link TestProcess}. */
export interface TestProcessOptions {
  /** Working directory; the test runner's by default. */
  readonly cwd?: string | undefined
  /** Environment; the test runner's by default. */
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Parse each stdout line as a JSON event (default true); lines that are no JSON are kept as lines only. */
  readonly json?: boolean | undefined
  /** Lead a process group of its own: `kill()`, and the cleanup, reach every process in it. */
  readonly group?: boolean | undefined
  /** Written to stdin, which is then closed. */
  readonly input?: string | undefined
  /** Keep stdin open for {@link TestProcess.write} (ignored when `input` is given). */
  readonly stdin?: boolean | undefined
  /** Kill the process when the current test finishes (default true); false when the caller does it (`afterAll`). */
  readonly cleanup?: boolean | undefined
  /** The default deadline of every wait, in ms (default 20 000). */
  readonly timeout?: number | undefined
}

/** Node's flags that run a TypeScript module from the workspace's sources: tsx, and the source condition. */
export const TSX: readonly string[] = ['--import', 'tsx', '--conditions=@net-server/source']

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * A process started by a test, its output recorded as it comes. Waits are re-checked
 * on every line, every chunk of stderr and the end of the output; each fails past its
 * deadline, or as soon as the process is gone without the awaited thing, with the
 * last events and stderr in its message.
 */
export class TestProcess<E extends ProcessEvent = JsonEvent> {
  readonly proc: ChildProcess
  /** The JSON events printed so far, in order. */
  readonly events: E[] = []
  /** Every stdout line printed so far, in order. */
  readonly lines: string[] = []
  stdout = ''
  stderr = ''
  /** Settles when the process has exited (its children may still hold its output). */
  readonly exit: Promise<Exit>
  /** Settles when the process has exited and its output has been read to the end. */
  readonly closed: Promise<Exit>
  readonly #command: string
  readonly #json: boolean
  readonly #group: boolean
  readonly #timeout: number
  readonly #watchers = new Set<() => void>()
  readonly #taken = new Set<E>()
  #partial = ''
  #output = ''
  #ended = false

  constructor (command: string, args: readonly string[], options: TestProcessOptions = {}) {
    this.#command = [command, ...args].join(' ')
    this.#json = options.json ?? true
    this.#group = options.group ?? false
    this.#timeout = options.timeout ?? 20_000
    const stdin = options.input !== undefined || options.stdin === true ? 'pipe' : 'ignore'
    this.proc = spawn(command, args, {
      cwd: options.cwd, env: options.env, stdio: [stdin, 'pipe', 'pipe'], detached: this.#group
    })
    let failed: (exit: Exit) => void = () => {}
    this.exit = new Promise((resolve) => {
      failed = resolve
      this.proc.once('exit', (code, signal) => { resolve({ code, signal }) })
    })
    this.closed = new Promise((resolve) => {
      this.proc.once('close', (code, signal) => {
        this.#ended = true
        resolve({ code, signal })
        failed({ code, signal })
        this.#notify()
      })
    })
    // A command that cannot start (ENOENT) emits 'error' and 'close', never 'exit'.
    this.proc.on('error', (err) => { this.stderr += `${err.message}\n` })
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.#read(chunk) })
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk
      this.#output += chunk
      this.#notify()
    })
    if (options.input !== undefined) this.proc.stdin!.end(options.input)
    if (options.cleanup ?? true) onTestFinished(async () => { await this.kill() })
  }

  get pid (): number {
    return this.proc.pid!
  }

  /** True until the process has exited. */
  get running (): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null && !this.#ended
  }

  /** Everything printed on stdout and stderr so far, in arrival order. */
  output (): string {
    return this.#output
  }

  /**
   * Called with each event before any wait is re-checked: a subclass keeps the state
   * that its waits read (the live children of a pool) here.
   */
  protected record (_event: E): void {}

  #read (chunk: string): void {
    this.stdout += chunk
    this.#output += chunk
    this.#partial += chunk
    let eol
    while ((eol = this.#partial.indexOf('\n')) !== -1) {
      const line = this.#partial.slice(0, eol)
      this.#partial = this.#partial.slice(eol + 1)
      this.lines.push(line)
      const event = this.#json ? parseEvent<E>(line) : undefined
      if (event !== undefined) {
        this.events.push(event)
        this.record(event)
      }
    }
    this.#notify()
  }

  #notify (): void {
    for (const watcher of [...this.#watchers]) watcher()
  }

  /** Resolves when `condition` holds, re-checked on each line; rejects past `timeout` ms or when the output ends first. */
  async until (condition: () => boolean, what: string, timeout = this.#timeout): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        finish()
        reject(new Error(`${why} waiting for ${what} from ${this.#command}\n${this.#recent()}`))
      }
      const watcher = (): void => {
        if (condition()) {
          finish()
          resolve()
        } else if (this.#ended) {
          fail(`the process ended (${this.proc.exitCode ?? this.proc.signalCode ?? '?'})`)
        }
      }
      const timer = setTimeout(() => { fail(`timed out after ${timeout} ms`) }, timeout)
      const finish = (): void => {
        clearTimeout(timer)
        this.#watchers.delete(watcher)
      }
      this.#watchers.add(watcher)
      watcher()
    })
  }

  #recent (): string {
    const shown = this.#json ? JSON.stringify(this.events.slice(-30)) : this.lines.slice(-30).join('\n')
    return `${this.#json ? 'events' : 'stdout'}: ${shown}\nstderr: ${this.stderr.slice(-3000)}`
  }

  /** The first event from index `from` on that matches, once it has been printed. */
  async event (match: (event: E) => boolean, what: string, from = 0, timeout = this.#timeout): Promise<E> {
    let found: E | undefined
    await this.until(() => (found = this.events.slice(from).find(match)) !== undefined, what, timeout)
    return found!
  }

  /**
   * The first event not taken before that matches (an event name, or a predicate),
   * once it has been printed; it is taken. Successive calls walk through repeated
   * events one at a time.
   */
  async take (match: string | ((event: E) => boolean), timeout = this.#timeout): Promise<E> {
    const test = typeof match === 'string' ? (e: E) => e.event === match : match
    const found = await this.event((e) => !this.#taken.has(e) && test(e), typeof match === 'string' ? `'${match}'` : 'an event', 0, timeout)
    this.#taken.add(found)
    return found
  }

  /** The first stdout line that matches `pattern`, once it has been printed. */
  async line (pattern: RegExp, timeout = this.#timeout): Promise<RegExpExecArray> {
    let found: RegExpExecArray | null = null
    const look = (): boolean => this.lines.some((l) => (found = pattern.exec(l)) !== null)
    await this.until(look, `a line matching ${String(pattern)}`, timeout)
    return found!
  }

  /** Writes `text` to stdin (started with `stdin: true`). */
  write (text: string): void {
    this.proc.stdin!.write(text)
  }

  signal (signal: NodeJS.Signals): void {
    this.proc.kill(signal)
  }

  /** The exit code, once the process has exited and its output is read; fails past the deadline. */
  async exited (timeout = this.#timeout): Promise<number | null> {
    return (await within(this.closed, timeout, `${this.#command} to exit\n${this.#recent()}`)).code
  }

  /** Sends `signal` and resolves with how the process ended; fails when it has not ended by the deadline. */
  async stop (signal: NodeJS.Signals = 'SIGTERM', timeout = this.#timeout): Promise<Exit> {
    this.signal(signal)
    return await within(this.closed, timeout, `${this.#command} to exit after ${signal}\n${this.#recent()}`)
  }

  /** Kills the process (its whole group, where it leads one) and waits for its exit. */
  async kill (): Promise<void> {
    if (this.#group && this.proc.pid !== undefined) {
      try { process.kill(-this.proc.pid, 'SIGKILL') } catch {} // the group is gone already
    } else if (this.running) {
      this.proc.kill('SIGKILL')
    }
    await this.exit
  }
}

function parseEvent<E extends ProcessEvent> (line: string): E | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value = JSON.parse(line) as E
    return typeof value.event === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/** Starts `command ARGS` from the repository root, its output kept as lines (no JSON events). */
export function startProcess (command: string, args: readonly string[], options: TestProcessOptions = {}): TestProcess {
  return new TestProcess(command, args, { cwd: ROOT, json: false, ...options })
}

/** Starts a TypeScript module of the workspace with Node and tsx; it reports JSON events unless told otherwise. */
export function startTs<E extends ProcessEvent = JsonEvent> (module: string, args: readonly string[], options: TestProcessOptions = {}): TestProcess<E> {
  return new TestProcess<E>(process.execPath, [...TSX, module, ...args], options)
}

/** What a process run to its end printed. */
export interface RunResult extends Exit {
  readonly stdout: string
  readonly stderr: string
  /** From spawn to exit, in ms. */
  readonly elapsed: number
}

/** Runs `command ARGS` to its end with `input` on stdin; fails when it runs past `deadline` ms. */
export async function run (command: string, args: readonly string[], input = '', deadline = 20_000): Promise<RunResult> {
  const started = performance.now()
  const proc = startProcess(command, args, { input })
  await proc.exited(deadline)
  const { code, signal } = await proc.closed
  return { code, signal, stdout: proc.stdout, stderr: proc.stderr, elapsed: performance.now() - started }
}
