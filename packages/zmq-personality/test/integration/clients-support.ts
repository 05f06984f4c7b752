/**
 * Shared pieces of the client and interop tests: real processes with a deadline and
 * cleanup, line-by-line stdout waits, the `zmq-client` command, and the clients
 * closed when the test ends.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { Client, LazyPirateClient, type ClientOptions, type LazyPirateClientOptions } from '@net-server/client'
import type { Broker, WorkerInfo } from '@net-server/zmq'
import { nextEvent, within } from '../helpers.js'

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
const CLI = fileURLToPath(new URL('../../../client/src/bin/zmq-client.ts', import.meta.url))
const TSX = ['--import', 'tsx', '--conditions=@net-server/source']

/** Debian's interpreter, which is where `python3-zmq` installs pyzmq. */
export const PYTHON = '/usr/bin/python3'
export const PERL = 'perl'

/**
 * Whether an interop peer is usable. Without it the tests skip with a clear message,
 * unless `NSZ_REQUIRE_INTEROP=1`: then they run and fail.
 */
export function interopPeer (name: string, command: string, args: readonly string[], install: string): boolean {
  const found = spawnSync(command, args, { stdio: 'ignore' }).status === 0
  if (found || process.env.NSZ_REQUIRE_INTEROP === '1') return true
  console.warn(`${name} interop tests skipped: \`${command} ${args.join(' ')}\` failed (${install}; NSZ_REQUIRE_INTEROP=1 makes this a failure)`)
  return false
}

/** A process started by a test: its output, its exit, and a kill at the end of the test. */
export interface Proc {
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  stdout: string
  stderr: string
  /** Resolves with the first stdout line (past or future) that matches, within `ms`. */
  line (pattern: RegExp, ms?: number): Promise<RegExpMatchArray>
}

/**
 * Starts a real process. With `group`, it leads a new process group, and the whole
 * group is killed when the test ends (for fixtures that fork).
 */
export function startProcess (command: string, args: readonly string[], options: { group?: boolean, input?: string } = {}): Proc {
  const spawnOptions: SpawnOptions = { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], detached: options.group === true }
  const child = spawn(command, args, spawnOptions)
  const lines: string[] = []
  const watchers: { pattern: RegExp, resolve: (m: RegExpMatchArray) => void }[] = []
  const proc: Proc = {
    child,
    exited: new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))),
    stdout: '',
    stderr: '',
    line (pattern, ms = 10_000) {
      for (const l of lines) {
        const m = pattern.exec(l)
        if (m !== null) return Promise.resolve(m)
      }
      const seen = new Promise<RegExpMatchArray>((resolve) => watchers.push({ pattern, resolve }))
      return within(seen, ms, `a line matching ${String(pattern)} from ${command}; stderr: ${proc.stderr}`)
    }
  }
  child.on('error', () => {})
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { proc.stdout += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { proc.stderr += d })
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l)
    for (let i = watchers.length - 1; i >= 0; i--) {
      const m = watchers[i]!.pattern.exec(l)
      if (m !== null) {
        watchers[i]!.resolve(m)
        watchers.splice(i, 1)
      }
    }
  })
  child.stdin!.end(options.input ?? '')
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        if (options.group === true) process.kill(-child.pid!, 'SIGKILL')
        else child.kill('SIGKILL')
      } catch {}
    }
    await within(proc.exited, 5000, `${command} to exit`)
  })
  return proc
}

export interface RunResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** From spawn to exit, in ms. */
  readonly elapsed: number
}

/** Runs a process to its end with `input` on stdin; fails when it runs past `deadline` ms. */
export async function run (command: string, args: readonly string[], input = '', deadline = 20_000): Promise<RunResult> {
  const started = performance.now()
  const proc = startProcess(command, args, { input })
  const { code, signal } = await within(proc.exited, deadline, `${command} ${args.join(' ')} to exit; stderr: ${proc.stderr}`)
  return { code, signal, stdout: proc.stdout, stderr: proc.stderr, elapsed: performance.now() - started }
}

/** Runs the `zmq-client` command (from source) as a real process. */
export function runCli (args: readonly string[], input = '', deadline = 20_000): Promise<RunResult> {
  return run(process.execPath, [...TSX, CLI, ...args], input, deadline)
}

/** Runs a TypeScript fixture of this package as a real process. */
export function startTsFixture (name: string, args: readonly string[]): Proc {
  return startProcess(process.execPath, [...TSX, fixture(name), ...args])
}

/** Starts the worker fixture (`fixtures/worker.ts`) and resolves once `broker` has registered its pid. */
export async function spawnWorker (broker: Broker, backend: string, services: readonly string[] = []): Promise<Proc> {
  const proc = startTsFixture('worker.ts', [backend, ...services])
  await nextEvent(broker, 'workerReady', 20_000, (w: WorkerInfo) => w.pid === proc.child.pid)
  return proc
}

export function lazyClient (options: LazyPirateClientOptions): LazyPirateClient {
  const client = new LazyPirateClient(options)
  onTestFinished(() => client.close())
  return client
}

export function pipelinedClient (options: ClientOptions): Client {
  const client = new Client(options)
  onTestFinished(() => client.close())
  return client
}

/** Resolves with what `promise` rejects with; fails when it resolves. */
export async function rejection (promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/** A promise with its resolve function, for jobs that a test releases. */
export function deferred<T = void> (): { promise: Promise<T>, resolve: (value: T) => void } {
  let settle!: (value: T) => void
  const promise = new Promise<T>((resolve) => { settle = resolve })
  return { promise, resolve: settle }
}

export const strings = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())
