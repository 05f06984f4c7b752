/**
 * Runs the `nsz` command as users do: the built `dist/bin/nsz.js` (the source through
 * tsx when there is no build), each in its own process group so that a test can tell
 * whether the command left any process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** How to start a package's executable: its build, else its source through tsx. */
function command (dist: string, source: string): readonly string[] {
  return existsSync(dist) ? [dist] : ['--import', 'tsx', '--conditions=@net-server/source', source]
}

export const NSZ = command(here('../../dist/bin/nsz.js'), here('../../src/bin/nsz.ts'))
export const ZMQ_CLIENT = command(here('../../../client/dist/bin/zmq-client.js'), here('../../../client/src/bin/zmq-client.ts'))
export const fixture = (name: string): string => here(`../fixtures/${name}`)

/** A temporary directory, removed when the test ends. */
export function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsz-cli-'))
  onTestFinished(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** True while any process of the group `pgid` exists. */
export function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Waits until no process of the group is left. They are not all this process's
 * children, so nothing signals their end: this checks every 50 ms up to the deadline.
 */
export async function groupGone (pgid: number, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) throw new Error(`processes of group ${pgid} still alive after ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Two ports that were free a moment ago, from the system. */
export async function freePorts (): Promise<[number, number]> {
  const servers = [net.createServer(), net.createServer()]
  const ports = await Promise.all(servers.map(async (s) => await new Promise<number>((resolve) => {
    s.listen(0, '127.0.0.1', () => { resolve((s.address() as net.AddressInfo).port) })
  })))
  await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))))
  return [ports[0]!, ports[1]!]
}

/** One `nsz` process: its output as it comes, its exit, its process group. */
export class Nsz {
  readonly proc: ChildProcess
  readonly exit: Promise<{ code: number | null, signal: string | null }>
  stdout = ''
  stderr = ''
  readonly #watchers = new Set<() => void>()
  #closed = false

  constructor (args: readonly string[], options: { argv0?: readonly string[], cwd?: string } = {}) {
    this.proc = spawn(process.execPath, [...options.argv0 ?? NSZ, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      cwd: options.cwd
    })
    this.exit = new Promise((resolve) => {
      // 'close': the process has exited and every holder of its stdout and stderr too
      this.proc.once('close', (code, signal) => {
        this.#closed = true
        resolve({ code, signal })
        this.#notify()
      })
    })
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; this.#notify() })
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; this.#notify() })
  }

  get pid (): number {
    return this.proc.pid!
  }

  /** The lines written to stdout so far. */
  get lines (): string[] {
    return this.stdout.split('\n').filter((l) => l.length > 0)
  }

  #notify (): void {
    for (const watcher of [...this.#watchers]) watcher()
  }

  /** The first stdout line that matches, once it has been written. */
  async line (pattern: RegExp, timeout = 20_000): Promise<RegExpExecArray> {
    let found: RegExpExecArray | undefined
    const look = (): boolean => {
      for (const l of this.lines) {
        const m = pattern.exec(l)
        if (m !== null) {
          found = m
          return true
        }
      }
      return false
    }
    await this.#until(look, `a line matching ${String(pattern)}`, timeout)
    return found!
  }

  /** The exit code, once the process has exited; fails past the deadline. */
  async exited (timeout = 20_000): Promise<number | null> {
    await this.#until(() => this.#closed, 'the exit', timeout)
    return (await this.exit).code
  }

  async #until (condition: () => boolean, what: string, timeout: number): Promise<void> {
    if (condition()) return
    await new Promise<void>((resolve, reject) => {
      const watcher = (): void => {
        if (!condition()) return
        finish()
        resolve()
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr.slice(-3000)}`))
      }, timeout)
      const finish = (): void => {
        clearTimeout(timer)
        this.#watchers.delete(watcher)
      }
      this.#watchers.add(watcher)
      if (this.#closed) watcher()
    })
  }

  /** Kills the whole process group, the command and every process it started. */
  async kill (): Promise<void> {
    if (groupAlive(this.pid)) {
      try { process.kill(-this.pid, 'SIGKILL') } catch {}
    }
    await this.exit
  }
}

/** Starts `nsz ARGS`; the process group is killed when the test ends. */
export function nsz (args: readonly string[], options: { argv0?: readonly string[], cwd?: string } = {}): Nsz {
  const proc = new Nsz(args, options)
  onTestFinished(async () => { await proc.kill() })
  return proc
}

/** Runs `nsz ARGS` to its end: exit code and output, after every process it started is gone. */
export async function runNsz (args: readonly string[], timeout = 20_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const proc = nsz(args)
  const code = await proc.exited(timeout)
  await groupGone(proc.pid)
  return { code, stdout: proc.stdout, stderr: proc.stderr }
}

/** A running `nsz serve` and the endpoints of its ready line. */
export interface Serving {
  readonly proc: Nsz
  readonly frontend: string
  readonly backend: string
}

/** Starts `nsz serve --port 0,0 ARGS` and waits for its ready line. */
export async function serve (args: readonly string[]): Promise<Serving> {
  const proc = nsz(['serve', '--port', '0,0', ...args])
  const [, frontend, backend] = await proc.line(/^listening frontend=(\S+) backend=(\S+)$/)
  return { proc, frontend: frontend!, backend: backend! }
}

/** Sends one request through the `zmq-client` command and resolves with its stdout. */
export async function zmqClient (endpoint: string, input: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const client = spawn(process.execPath, [...ZMQ_CLIENT, '--endpoint', endpoint, '--timeout', '10'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  client.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c })
  client.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  const exit = new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)))
  onTestFinished(async () => {
    if (client.exitCode === null && client.signalCode === null) client.kill('SIGKILL')
    await exit
  })
  client.stdin.end(input)
  return { code: await exit, stdout, stderr }
}

/** `nsz status --json` of a server started with this pid file. */
export async function statusJson (pidFile: string): Promise<StatusJson> {
  const { code, stdout, stderr } = await runNsz(['status', '--pid-file', pidFile, '--json'])
  if (code !== 0) throw new Error(`nsz status exited ${String(code)}: ${stderr}`)
  return JSON.parse(stdout) as StatusJson
}

/** What `nsz status --json` prints. */
export interface StatusJson {
  pid: number
  title: string
  frontend: string
  backend: string
  uptime: number
  limits: { minServers: number, maxServers: number }
  children: Array<{ pid: number, state: string, jobs: number, age: number }>
  remoteWorkers: number
  queued: number
  inFlight: number
  served: number
  jobsPerSecond: number
}

/**
 * Asks `nsz status --json` until `match` holds: for changes no output line reports
 * (a worker replaced, limits moved). Each query waits for its answer.
 */
export async function statusUntil (pidFile: string, match: (status: StatusJson) => boolean, what: string, timeout = 15_000): Promise<StatusJson> {
  const deadline = Date.now() + timeout
  for (;;) {
    const status = await statusJson(pidFile)
    if (match(status)) return status
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`)
  }
}
