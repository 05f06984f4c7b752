/**
 * The `nsz` command: `nsz serve [APP]` runs a job server (this process is the
 * broker, its children the workers), `nsz worker --connect URL [APP]` runs a pool of
 * workers for a broker elsewhere, `nsz status` asks a running server how it is.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Writable } from 'node:stream'
import { Command, CommanderError, Option } from 'commander'
import { Request } from 'zeromq'
import { isProcessAlive, kebabCase, type OptionSpec, type OptionSpecs } from '@net-server/core'
import type { App } from './app.js'
import { WorkerPool } from './worker-pool.js'
import { ZmqServer, type ZmqServerStatus } from './zmq-server.js'

/** Where the command writes: the process's streams, or test doubles. */
export interface NszIo {
  readonly stdout: Writable
  readonly stderr: Writable
}

/** Exit codes of `nsz`. */
export const NszExit = {
  OK: 0,
  /** The server could not start, or stopped on an error; `nsz status` found no server. */
  FAILED: 1,
  /** Bad usage: unknown flag, bad value. */
  USAGE: 2
} as const

/** Options that code sets, or that make no sense as flags. */
const NOT_FLAGS = new Set(['app', 'argv', 'handleSignals'])
/** Broker-only options, left out of `nsz worker`. */
const BROKER_ONLY = new Set(['port', 'host', 'frontend', 'backend', 'maxQueue', 'maxMessageSize', 'requeue', 'serviceGrace', 'controlEndpoint', 'jobTimeout', 'curve', 'clientKeys', 'workerKeys'])

class UsageError extends Error {}

type ServerClass = new (options?: Record<string, unknown>) => ZmqServer

function version (): string {
  const require = createRequire(import.meta.url)
  return (require('../package.json') as { version: string }).version
}

function formatDefault (spec: OptionSpec): string | undefined {
  const value = spec.default
  if (value === undefined || typeof value === 'function') return undefined
  if (spec.kind === 'duration' && typeof value === 'number') return `${value / 1000}`
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(',')
  return String(value)
}

function addServerFlags (command: Command, specs: OptionSpecs, skip: ReadonlySet<string>): Command {
  for (const [name, spec] of Object.entries(specs)) {
    if (NOT_FLAGS.has(name) || skip.has(name) || spec.parse === undefined) continue
    const flag = kebabCase(name)
    const unit = spec.kind === 'duration' ? ' (seconds)' : ''
    const option = spec.kind === 'boolean'
      ? new Option(`--${flag} [bool]`, `${spec.description}`)
      : new Option(`--${flag} <value>`, `${spec.description}${unit}`)
    const shown = formatDefault(spec)
    if (shown !== undefined) option.default(undefined, shown)
    option.argParser((raw: string | undefined) => {
      try {
        return spec.parse!(raw ?? 'true', name)
      } catch (err) {
        throw new UsageError(`--${flag}: ${(err as Error).message}`)
      }
    })
    command.addOption(option)
  }
  return command
}

/** Loads APP: a job function, a map of service name to function, or a `ZmqServer` subclass. */
export async function loadApp (path: string): Promise<{ app?: App, serverClass?: ServerClass }> {
  const file = resolve(path)
  if (!existsSync(file)) throw new UsageError(`APP module ${path} does not exist`)
  let mod: { default?: unknown }
  try {
    mod = await import(pathToFileURL(file).href) as { default?: unknown }
  } catch (err) {
    throw new Error(`APP module ${path} failed to load: ${(err as Error).message}`, { cause: err })
  }
  const exported = mod.default
  if (typeof exported === 'function' && exported.prototype instanceof ZmqServer) {
    return { serverClass: exported as ServerClass }
  }
  if (typeof exported === 'function') return { app: exported as App }
  if (typeof exported === 'object' && exported !== null &&
      Object.values(exported).length > 0 && Object.values(exported).every((v) => typeof v === 'function')) {
    return { app: exported as App }
  }
  throw new UsageError(`APP module ${path}: its default export must be a job function, an object of service name to job function, or a ZmqServer subclass (got ${exported === undefined ? 'no default export' : typeof exported})`)
}

async function runServer (kind: 'serve' | 'worker', appPath: string | undefined, flags: Record<string, unknown>, io: NszIo): Promise<number> {
  const loaded = appPath === undefined ? {} : await loadApp(appPath)
  const options: Record<string, unknown> = { ...flags, argv: false }
  if (loaded.app !== undefined) options.app = loaded.app
  const Base: ServerClass = kind === 'worker' ? WorkerPool as unknown as ServerClass : ZmqServer as unknown as ServerClass
  const Cls = loaded.serverClass ?? Base
  const server = new Cls(options)
  if (!server.isChild) {
    server.once('listening', (endpoints) => {
      const line = kind === 'serve'
        ? `listening frontend=${endpoints[0] ?? ''} backend=${endpoints[1] ?? ''}`
        : `connecting to ${endpoints[0] ?? ''}`
      io.stdout.write(`${line}\n`)
    })
  }
  await server.run()
  return NszExit.OK
}

async function askStatus (pidFile: string | undefined, control: string | undefined, timeoutMs: number): Promise<ZmqServerStatus> {
  let endpoint = control
  if (endpoint === undefined) {
    if (pidFile === undefined) throw new UsageError('nsz status needs --pid-file FILE (or --control ENDPOINT)')
    let pid: number
    try {
      pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10)
    } catch {
      throw new Error(`no server: pid file ${pidFile} cannot be read`)
    }
    if (!Number.isSafeInteger(pid) || pid <= 0 || !isProcessAlive(pid)) throw new Error(`no server: the pid in ${pidFile} is not running`)
    endpoint = `ipc://${pidFile}.sock`
  }
  const socket = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs })
  try {
    socket.connect(endpoint)
    await socket.send('status')
    const [reply] = await socket.receive()
    return JSON.parse(reply!.toString()) as ZmqServerStatus
  } catch (err) {
    throw new Error(`the server did not answer on ${endpoint}: ${(err as Error).message}`, { cause: err })
  } finally {
    socket.close()
  }
}

function statusTable (s: ZmqServerStatus): string {
  const lines = [
    `broker ${s.pid}  ${s.title}`,
    `frontend ${s.frontend}  backend ${s.backend}  up ${s.uptime.toFixed(0)} s`,
    `workers ${s.children.length} (min ${s.limits.minServers}, max ${s.limits.maxServers})${s.remoteWorkers > 0 ? `, remote ${s.remoteWorkers}` : ''}`,
    `queue ${s.queued}  in flight ${s.inFlight}  served ${s.served}  jobs/s ${s.jobsPerSecond.toFixed(1)}`,
    '',
    'PID      STATE       JOBS      AGE'
  ]
  for (const c of s.children) {
    lines.push(`${String(c.pid).padEnd(8)} ${c.state.padEnd(11)} ${String(c.jobs).padEnd(9)} ${c.age.toFixed(0)} s`)
  }
  return lines.join('\n') + '\n'
}

function program (io: NszIo, run: (task: () => Promise<number>) => void): Command {
  const specs = new ZmqServer({ argv: false }).describeOptions()
  const root = new Command('nsz')
    .description('Preforking ZeroMQ job server')
    .version(version())
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()

  const serve = root.command('serve')
    .description('run a job server: this process is the broker, its children the workers')
    .argument('[APP]', 'module whose default export is a job function, a map of service to function, or a ZmqServer subclass (default: echo)')
  addServerFlags(serve, specs, new Set())
  serve.action((app: string | undefined, flags: Record<string, unknown>) => { run(() => runServer('serve', app, flags, io)) })

  const worker = root.command('worker')
    .description('run a pool of workers for a broker elsewhere')
    .argument('[APP]', 'module whose default export is a job function or a map of service to function')
  addServerFlags(worker, new WorkerPool({ argv: false }).describeOptions(), BROKER_ONLY)
  worker.action((app: string | undefined, flags: Record<string, unknown>) => { run(() => runServer('worker', app, flags, io)) })

  root.command('status')
    .description('ask a running server for its workers, queue and rate')
    .option('--pid-file <file>', 'the server\'s pid file')
    .option('--control <endpoint>', 'the server\'s control endpoint (default: ipc://<pid-file>.sock)')
    .option('--json', 'print JSON for scripts')
    .option('--timeout <seconds>', 'how long to wait for the answer', '2')
    .action((flags: { pidFile?: string, control?: string, json?: boolean, timeout: string }) => {
      run(async () => {
        const timeout = Number(flags.timeout)
        if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds > 0 (got '${flags.timeout}')`)
        const status = await askStatus(flags.pidFile, flags.control, Math.ceil(timeout * 1000))
        io.stdout.write(flags.json === true ? `${JSON.stringify(status, null, 2)}\n` : statusTable(status))
        return NszExit.OK
      })
    })
  return root
}

/**
 * Runs `nsz` with these arguments (without `node` and the script) and resolves with
 * the exit code. Errors print one line on stderr; the stack only with `--log-level 4`.
 */
export async function main (argv: readonly string[], io: NszIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let task: (() => Promise<number>) | undefined
  const verbose = argv.some((a, i) => (a === '--log-level' && argv[i + 1] === '4') || a === '--log-level=4')
  try {
    await program(io, (t) => { task = t }).parseAsync(argv as string[], { from: 'user' })
    if (task === undefined) return NszExit.OK
    return await task()
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return NszExit.OK
      return NszExit.USAGE
    }
    const cause = (err as Error).cause
    const usage = err instanceof UsageError || cause instanceof UsageError
    const message = usage && cause instanceof UsageError ? cause.message : (err as Error).message
    io.stderr.write(`nsz: ${message}\n`)
    if (verbose && err instanceof Error && err.stack !== undefined) io.stderr.write(`${err.stack}\n`)
    return usage || err instanceof TypeError || err instanceof RangeError ? NszExit.USAGE : NszExit.FAILED
  }
}
