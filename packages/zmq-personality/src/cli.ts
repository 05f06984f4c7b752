/**
 * The `nsz` command: `nsz serve [APP]` runs a job server (this process is the
 * broker, its children the workers), `nsz worker --connect URL [APP]` runs a pool of
 * workers for a broker elsewhere, `nsz status` asks a running server how it is,
 * `nsz dashboard` prints the URL of its dashboard,
 * `nsz keygen` makes a CURVE key pair.
 * `docs/getting-started.md` is the user's guide.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Writable } from 'node:stream'
import { Command, CommanderError, Option, type OutputConfiguration } from 'commander'
import { Request, type SocketOptions } from 'zeromq'
import { CoreErrorCode, isProcessAlive, kebabCase, NszError, OPTION_GROUPS, type OptionSpec, type OptionSpecs } from '@net-server/core'
import type { App } from './app.js'
import { curveClientSocketOptions } from './security/curve.js'
import { readKeyFile } from './security/key-file.js'
import { keygen } from './security/keygen.js'
import { statusTable } from './status-table.js'
import { WorkerPool } from './worker-pool.js'
import { ZmqServer, type ZmqServerStatus } from './zmq-server.js'

/** Where the command writes: the process's streams, or test doubles. */
export interface NszIo {
  readonly stdout: Writable
  readonly stderr: Writable
}

/** Exit codes of `nsz`. */
export const NszExit = {
  /** Done: the server stopped on a signal, help or version was printed, status answered. */
  OK: 0,
  /**
   * The server could not start or stopped on an error (port in use, pid file held
   * by a live server, APP module threw while loading, children crash at boot);
   * `nsz status` found no server; `nsz dashboard` found no server or no dashboard.
   */
  FAILED: 1,
  /**
   * Bad usage: unknown command or flag, bad flag value, conflicting options, an APP
   * module that does not exist or exports no job, a conf file that cannot be read
   * or has a bad line.
   */
  USAGE: 2
} as const

/** What a loaded APP module provides: a job (or map of jobs), or a server class. */
export interface LoadedApp {
  /** The job function or the map of service name to job function. */
  readonly app?: App
  /** The `ZmqServer` subclass that the module exports. */
  readonly serverClass?: ServerClass
}

type ServerClass = new (options?: Record<string, unknown>) => ZmqServer

/** The heading of flags whose spec names no group. */
const OTHER_GROUP = 'Other options:'

const HELP_FOOTER = `
Durations are in seconds, fractions allowed (--job-timeout 2.5). List flags
repeat (--allow A --allow B); --cidr-allow and --cidr-deny also take commas.
Flags override --conf-file, which overrides the defaults shown.

Exit codes: 0 stopped cleanly, 1 could not start or failed, 2 bad usage.`

/** A mistake in the command line or its arguments: exit code 2. */
class UsageError extends Error {}

/** The flag for option `name`, e.g. `--min-servers`. */
function flagOf (name: string): string {
  return `--${kebabCase(name)}`
}

/** Speaks of flags rather than options: `options.maxQueue must …` → `--max-queue must …`. */
function asFlags (message: string): string {
  return message.replace(/\boptions\.([a-zA-Z]\w*)/g, (_, name: string) => flagOf(name))
}

/** An error message for the command line; a conf file's lines keep their option names. */
function inFlags (message: string): string {
  if (!message.startsWith('conf file')) return asFlags(message)
  return message.replace(/\boptions\.confFile\b/g, '--conf-file').replace(/\boptions\.([a-zA-Z]\w*)/g, '$1')
}

function version (): string {
  const require = createRequire(import.meta.url)
  return (require('../package.json') as { version: string }).version
}

function formatDefault (spec: OptionSpec): string | undefined {
  const value = spec.default
  if (value === undefined || value === null || typeof value === 'function') return undefined
  if (spec.kind === 'duration' && typeof value === 'number') return `${value / 1000}`
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(',')
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  return String(value)
}

function placeholder (spec: OptionSpec): string {
  if (spec.placeholder !== undefined) return spec.placeholder
  if (spec.kind === 'duration') return '<seconds>'
  if (spec.kind === 'integer') return '<n>'
  return '<value>'
}

/**
 * The options that are flags of a command, in `--help` order: by group (core's
 * `OPTION_GROUPS`, then the ungrouped), then by `order`, then as declared. Options
 * without `parse` (code only), with `flag: false`, or with a `scope` the command does
 * not run are left out.
 */
function flagsOf (specs: OptionSpecs, scopes: ReadonlySet<string>): Array<[heading: string, name: string]> {
  const rank = (spec: OptionSpec): number => {
    const group = spec.group === undefined ? -1 : OPTION_GROUPS.indexOf(spec.group)
    return group === -1 ? OPTION_GROUPS.length : group
  }
  return Object.entries(specs)
    .filter(([, spec]) => spec.parse !== undefined && spec.flag !== false && (spec.scope === undefined || scopes.has(spec.scope)))
    .map(([name, spec], index) => ({ name, spec, index }))
    .sort((a, b) => rank(a.spec) - rank(b.spec) || (a.spec.order ?? 0) - (b.spec.order ?? 0) || a.index - b.index)
    .map(({ name, spec }) => [spec.group === undefined ? OTHER_GROUP : `${spec.group}:`, name])
}

/** Parses and checks one flag's value with its option spec, so that errors name the flag. */
function parseFlag (name: string, spec: OptionSpec, raw: string): unknown {
  const flag = flagOf(name)
  let value: unknown
  try {
    value = spec.parse!(raw, name)
    if (name === 'port' && (!Array.isArray(value) || value.length !== 2 || value.some((p) => !Number.isInteger(p)))) {
      throw new TypeError(`options.port must be two ports, frontend and backend, like 6660,6661 (0 picks a free port), got '${raw}'`)
    }
    spec.validate(value, name)
  } catch (err) {
    let message = (err as Error).message
    // Durations are checked in milliseconds but given in seconds: say it in seconds.
    const bound = spec.kind === 'duration' ? /must be at (least|most) (\d+) ms/.exec(message) : null
    if (bound !== null) message = `options.${name} must be at ${bound[1]!} ${Number(bound[2]) / 1000} seconds, got '${raw}'`
    throw new UsageError(asFlags(message.startsWith(`options.${name}`) ? message : `${flag}: ${message}`))
  }
  return value
}

function addServerFlags (command: Command, specs: OptionSpecs, scopes: ReadonlySet<string>): Command {
  const ordered = flagsOf(specs, scopes)
  for (const [heading, name] of ordered) {
    const spec = specs[name]!
    const flag = kebabCase(name)
    const shown = formatDefault(spec)
    const suffix = shown === undefined ? '' : ` (default: ${shown})`
    if (spec.kind === 'boolean') {
      // A bare switch: an optional value would swallow the APP argument after it.
      command.addOption(new Option(`--${flag}`, `${spec.description}; --no-${flag} turns it off${suffix}`).helpGroup(heading))
      command.addOption(new Option(`--no-${flag}`).hideHelp().helpGroup(heading))
      continue
    }
    const repeat = spec.repeatable === true ? ' (repeatable)' : ''
    const option = new Option(`--${flag} ${placeholder(spec)}`, `${spec.description}${repeat}${suffix}`).helpGroup(heading)
    option.argParser((raw: string, previous: unknown) => {
      const value = parseFlag(name, spec, raw)
      return spec.repeatable === true && Array.isArray(previous) && Array.isArray(value) ? [...previous, ...value] : value
    })
    command.addOption(option)
  }
  command.addHelpText('after', HELP_FOOTER)
  return command
}

function isClass (value: unknown): value is new (...args: unknown[]) => unknown {
  return typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value))
}

/**
 * Loads APP, a module whose default export is a job function, an object of service
 * name to job function, or a `ZmqServer` subclass. Throws with a message for the
 * command line when the file is missing, throws while loading or exports nothing
 * usable.
 */
export async function loadApp (path: string): Promise<LoadedApp> {
  const file = resolve(path)
  if (!existsSync(file)) throw new UsageError(`APP module ${path} not found (resolved to ${file})`)
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
  if (isClass(exported)) {
    throw new UsageError(`APP module ${path}: its default export is a class but not a ZmqServer subclass (is @net-server/zmq installed twice?)`)
  }
  if (typeof exported === 'function') return { app: exported as App }
  if (typeof exported === 'object' && exported !== null && !Array.isArray(exported) &&
      Object.values(exported).length > 0 && Object.values(exported).every((v) => typeof v === 'function')) {
    return { app: exported as App }
  }
  const got = exported === undefined ? 'no default export' : exported === null ? 'null' : Array.isArray(exported) ? 'an array' : typeof exported === 'object' ? 'an object that is not all functions' : `a ${typeof exported}`
  throw new UsageError(`APP module ${path}: its default export must be a job function, an object of service name to job function, or a ZmqServer subclass (got ${got})`)
}

/** Options that commander left undefined (flags not given) take their value from elsewhere. */
function givenFlags (flags: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined))
}

async function runServer (kind: 'serve' | 'worker', appPath: string | undefined, flags: Record<string, unknown>, io: NszIo): Promise<number> {
  const loaded = appPath === undefined ? {} : await loadApp(appPath)
  const Cls = serverClassFor(kind, loaded, appPath)
  const options: Record<string, unknown> = { ...givenFlags(flags), argv: false }
  if (loaded.app !== undefined) options.app = loaded.app
  const server = new Cls(options)
  if (!server.isChild) announce(kind, server, io)
  await server.run()
  return NszExit.OK
}

function serverClassFor (kind: 'serve' | 'worker', loaded: LoadedApp, appPath: string | undefined): ServerClass {
  const Cls = loaded.serverClass
  if (Cls === undefined) return (kind === 'worker' ? WorkerPool : ZmqServer) as unknown as ServerClass
  const isPool = Cls.prototype instanceof WorkerPool
  if (kind === 'serve' && isPool) throw new UsageError(`APP module ${appPath ?? ''} exports a WorkerPool subclass: run it with nsz worker --connect ENDPOINT`)
  if (kind === 'worker' && !isPool) throw new UsageError(`APP module ${appPath ?? ''} exports a ZmqServer subclass: run it with nsz serve, or subclass WorkerPool for nsz worker`)
  return Cls
}

/**
 * Prints the ready lines on stdout, in the parent only: `listening frontend=… backend=…`
 * once the broker is bound (`connecting backend=…` for a worker pool), with
 * `--metrics-port` `metrics url=http://…/metrics` (and with `--dashboard`
 * `dashboard url=http://…/`), then `ready workers=N` once
 * `minServers` workers serve.
 */
function announce (kind: 'serve' | 'worker', server: ZmqServer, io: NszIo): void {
  let announced = false
  const ready = (count: number): void => {
    if (announced || count < server.options.minServers) return
    announced = true
    io.stdout.write(`ready workers=${count}\n`)
  }
  server.once('listening', (endpoints) => {
    if (kind === 'serve') {
      io.stdout.write(`listening frontend=${endpoints[0] ?? ''} backend=${endpoints[1] ?? ''}\n`)
      if (server.metricsUrl !== undefined) io.stdout.write(`metrics url=${server.metricsUrl}\n`)
      if (server.dashboardUrl !== undefined) io.stdout.write(`dashboard url=${server.dashboardUrl}\n`)
      const broker = server.broker
      const onReady = (): void => {
        ready(broker?.workers().length ?? 0)
        if (announced) broker?.off('workerReady', onReady)
      }
      broker?.on('workerReady', onReady)
      ready(0)
      if (announced) broker?.off('workerReady', onReady)
    } else {
      io.stdout.write(`connecting backend=${endpoints[0] ?? ''}\n`)
      const pids = new Set<number>()
      const onReady = (pid: number): void => {
        pids.add(pid)
        ready(pids.size)
        if (announced) server.off('childReady', onReady)
      }
      server.on('childReady', onReady)
      ready(0)
    }
  })
}

/** How `nsz status` reaches a TCP control endpoint whose server requires CURVE (the frontend's keys). */
interface StatusCurve {
  readonly serverKey?: string
  readonly keyFile?: string
}

/** The CURVE socket options of a status request; none without a server key. */
async function statusCurve (curve: StatusCurve): Promise<SocketOptions<Request>> {
  if (curve.serverKey === undefined) {
    if (curve.keyFile !== undefined) throw new UsageError('--curve-key-file needs --curve-server-key (the server\'s public key)')
    return {}
  }
  const own = curve.keyFile === undefined ? {} : await readKeyFile(curve.keyFile)
  try {
    return curveClientSocketOptions({ serverKey: curve.serverKey.trim(), ...own }, '--curve-server-key')
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

async function askStatus (command: string, pidFile: string | undefined, control: string | undefined, timeoutMs: number, curve: StatusCurve = {}): Promise<ZmqServerStatus> {
  let endpoint = control
  if (endpoint === undefined) {
    if (pidFile === undefined) throw new UsageError(`nsz ${command} needs --pid-file FILE (the one nsz serve was started with) or --control ENDPOINT`)
    let pid: number
    try {
      pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10)
    } catch (err) {
      throw new Error(`no server: pid file ${pidFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
    }
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`no server: pid file ${pidFile} holds no pid`)
    if (!isProcessAlive(pid)) throw new Error(`no server: process ${pid} from ${pidFile} is not running`)
    endpoint = `ipc://${pidFile}.sock`
  }
  const socket = new Request({ ...await statusCurve(curve), linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs })
  let reply: Buffer | undefined
  try {
    socket.connect(endpoint)
    await socket.send('status')
    reply = (await socket.receive())[0]
  } catch (err) {
    const timedOut = (err as NodeJS.ErrnoException).code === 'EAGAIN'
    throw new Error(timedOut
      ? `no answer on ${endpoint} within ${timeoutMs / 1000} s (only nsz serve answers status, and only with --pid-file or --control-endpoint)`
      : `cannot ask ${endpoint}: ${(err as Error).message}`, { cause: err })
  } finally {
    socket.close()
  }
  const answer = JSON.parse(reply?.toString() ?? '{}') as ZmqServerStatus & { error?: string }
  if (typeof answer.error === 'string') throw new Error(`the server at ${endpoint} answered: ${answer.error}`)
  return answer
}

function program (io: NszIo, run: (task: () => Promise<number>) => void): Command {
  const root = new Command('nsz')
    .description('Preforking ZeroMQ job server')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand(false)
    .configureOutput(output(io, 'nsz'))
    .exitOverride()
    .addHelpText('after', '\nRun nsz COMMAND --help for the flags of each command.\nExit codes: 0 stopped cleanly, 1 could not start or failed, 2 bad usage.')

  const serve = root.command('serve')
    .description('run a job server: this process is the broker, its children the workers')
    .argument('[APP]', 'module whose default export is a job function, an object of service name to job function, or a ZmqServer subclass (default: echo the request)')
    .helpOption('-h, --help', 'show this help')
    .configureOutput(output(io, 'nsz serve'))
  addServerFlags(serve, new ZmqServer({ argv: false }).describeOptions(), new Set(['broker']))
  serve.action((app: string | undefined, flags: Record<string, unknown>) => { run(() => runServer('serve', app, flags, io)) })

  const worker = root.command('worker')
    .description('run a pool of workers that joins a broker elsewhere (nsz serve on another host)')
    .argument('[APP]', 'module whose default export is a job function, an object of service name to job function, or a WorkerPool subclass (default: echo the request)')
    .helpOption('-h, --help', 'show this help')
    .configureOutput(output(io, 'nsz worker'))
  // A pool of workers runs no broker: the broker's options are not its flags.
  addServerFlags(worker, new WorkerPool({ argv: false }).describeOptions(), new Set())
  worker.action((app: string | undefined, flags: Record<string, unknown>) => { run(() => runServer('worker', app, flags, io)) })

  type StatusFlags = { pidFile?: string, control?: string, curveServerKey?: string, curveKeyFile?: string, json?: boolean, timeout: string }
  /** The flags that say how to reach a running server, shared by `status` and `dashboard`, and the ask itself. */
  const asking = (name: string, description: string): Command => root.command(name)
    .description(description)
    .option('--pid-file <file>', 'the pid file the server was started with (it answers on ipc://<file>.sock)')
    .option('--control <endpoint>', 'the server\'s --control-endpoint instead')
    .option('--curve-server-key <key>', 'the server\'s CURVE public key, when its frontend requires CURVE (a TCP --control)')
    .option('--curve-key-file <file>', 'this client\'s key pair (from nsz keygen), when the server admits listed client keys only')
    .option('--timeout <seconds>', 'how long to wait for the answer', '2')
    .helpOption('-h, --help', 'show this help')
    .configureOutput(output(io, `nsz ${name}`))
  const ask = async (command: string, flags: StatusFlags): Promise<ZmqServerStatus> => {
    const timeout = Number(flags.timeout)
    if (flags.timeout.trim() === '' || !Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds above 0, got '${flags.timeout}'`)
    return await askStatus(command, flags.pidFile, flags.control, Math.ceil(timeout * 1000), { serverKey: flags.curveServerKey, keyFile: flags.curveKeyFile })
  }

  asking('status', 'ask a running nsz serve for its workers, queue and rate')
    .option('--json', 'print JSON, for scripts')
    .addHelpText('after', '\nExit codes: 0 the server answered, 1 no server or no answer, 2 bad usage.')
    .action((flags: StatusFlags) => {
      run(async () => {
        const status = await ask('status', flags)
        io.stdout.write(flags.json === true ? `${JSON.stringify(status, null, 2)}\n` : statusTable(status))
        return NszExit.OK
      })
    })

  asking('dashboard', 'print the URL of a running nsz serve\'s dashboard (started with --metrics-port and --dashboard)')
    .addHelpText('after', '\nExit codes: 0 the URL was printed, 1 no server, no answer or no dashboard, 2 bad usage.')
    .action((flags: StatusFlags) => {
      run(async () => {
        const { dashboardUrl } = await ask('dashboard', flags)
        if (dashboardUrl === undefined) throw new Error('the server serves no dashboard: start it with --metrics-port PORT --dashboard')
        io.stdout.write(`${dashboardUrl}\n`)
        return NszExit.OK
      })
    })

  root.command('keygen')
    .description('make a CURVE key pair (Z85): print it as JSON, or write it to a key file for --curve-key-file')
    .option('--out <file>', 'write the pair to FILE (mode 0600, never overwritten) and print only the public key')
    .option('--text', 'print two lines, public-key and secret-key, instead of JSON')
    .helpOption('-h, --help', 'show this help')
    .configureOutput(output(io, 'nsz keygen'))
    .addHelpText('after', '\nExit codes: 0 done, 1 FILE exists or cannot be written, 2 bad usage.')
    .action((flags: { out?: string, text?: boolean }) => {
      run(async () => {
        if (flags.out !== undefined && flags.text === true) throw new UsageError('--text and --out exclude each other: with --out only the public key is printed')
        io.stdout.write(await keygen(flags))
        return NszExit.OK
      })
    })
  return root
}

/**
 * Commander's errors as one line: `error: unknown option '--max-queu'\n(Did you mean
 * --max-queue?)` becomes `nsz: unknown option '--max-queu' (did you mean --max-queue?)`.
 */
function commanderLine (text: string, command: string): string {
  const [first = '', ...rest] = text.trim().replace(/^error: /, '').split('\n')
  const hint = rest.join(' ').trim().replace(/^\(Did you mean/, '(did you mean')
  const tail = hint.length > 0 ? ` ${hint}` : ` (see ${command} --help)`
  return `nsz: ${first.replace(/\.$/, '')}${tail}\n`
}

function output (io: NszIo, command: string): OutputConfiguration {
  return {
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: (s, write) => { write(commanderLine(s, command)) }
  }
}

function exitCodeOf (err: unknown): number {
  if (err instanceof UsageError || (err as Error).cause instanceof UsageError) return NszExit.USAGE
  if (err instanceof TypeError || err instanceof RangeError) return NszExit.USAGE
  if (err instanceof NszError && (err.code === CoreErrorCode.CONF_FILE || err.code === CoreErrorCode.UNKNOWN_OPTION || err.code === CoreErrorCode.COMMAND_LINE)) return NszExit.USAGE
  return NszExit.FAILED
}

/**
 * Runs `nsz` with these arguments (without `node` and the script) and resolves with
 * the exit code ({@link NszExit}) once the command is done: for `serve` and `worker`,
 * once the server has stopped. Errors print one line on stderr, `nsz: …`; the stack
 * too with `--log-level 4`.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2))
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
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? NszExit.OK : NszExit.USAGE
    }
    const message = (err as Error).message ?? String(err)
    io.stderr.write(`nsz: ${inFlags(message)}\n`)
    if (verbose && err instanceof Error && err.stack !== undefined) io.stderr.write(`${err.stack}\n`)
    return exitCodeOf(err)
  }
}
