/**
 * The `zmq-client` command: send a request read from stdin, print the reply.
 *
 * Compatible with the seed's `zmq-client` (same flags and defaults, a lazy pirate REQ
 * client), with progress and retry messages on stderr so that stdout carries only the
 * reply, plus `--service` (MDP/0.1), `--dialect` and a batch mode (`--lines`).
 */

import { once } from 'node:events'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { Command, CommanderError, Option } from 'commander'
import { Client } from './client.js'
import { ClientErrorCode, isClientError } from './errors.js'
import { LazyPirateClient } from './lazy-pirate-client.js'
import { DEFAULT_ENDPOINT } from './options.js'
import { NSZC } from './protocol.js'

/** Where the command reads and writes: the process's streams, or test doubles. */
export interface CliIo {
  readonly stdin: Readable
  readonly stdout: Writable
  /** Progress is drawn only when `isTTY` is true. */
  readonly stderr: Writable & { readonly isTTY?: boolean }
}

/** Exit codes of `zmq-client`. */
export const ExitCode = {
  /** Every request got a successful reply. */
  OK: 0,
  /** The client gave up, or the server replied with a failure status. */
  FAILED: 1,
  /** Bad usage: unknown flag, bad value, bad endpoint. */
  USAGE: 2
} as const

const NAME = 'zmq-client'
const PROGRESS_INTERVAL = 100

interface Settings {
  readonly endpoint: string
  readonly timeout: number
  readonly retries: number
  readonly identity: string | undefined
  readonly service: string | undefined
  readonly dialect: Dialect
  readonly lines: boolean
  readonly concurrency: number
}

/**
 * What the command speaks: plain REQ (`req`), MDP/0.1 (`mdp`, which carries a service
 * and no request id) or the project's dialect (`nsz`, request id and status).
 */
type Dialect = 'req' | 'mdp' | 'nsz'
const DIALECTS: readonly Dialect[] = ['req', 'mdp', 'nsz']

class UsageError extends Error {}

function version (): string {
  const require = createRequire(import.meta.url)
  return (require('../package.json') as { version: string }).version
}

function parseSeconds (value: string): number {
  const seconds = value.trim() === '' ? Number.NaN : Number(value)
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a number of seconds > 0 (got '${value}')`)
  // libzmq counts whole milliseconds.
  return Math.max(1, Math.ceil(seconds * 1000))
}

function parseCount (flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag} must be an integer >= ${min} (got '${value}')`)
  }
  return Number(value)
}

function program (io: CliIo): Command {
  return new Command(NAME)
    .description('Send the request read from stdin to a job server and print the reply on stdout.')
    .addOption(new Option('-e, --endpoint <endpoint>', 'the broker frontend').default(DEFAULT_ENDPOINT))
    .addOption(new Option('-t, --timeout <seconds>', 'how long to wait for each reply, fractions allowed').default('10'))
    .addOption(new Option('-r, --retries <n>', 'how many times to resend before giving up').default('2'))
    .option('-i, --identity <id>', 'the socket routing id')
    .option('-s, --service <name>', 'ask for this service (implies --dialect mdp); default: the broker\'s default service')
    .option('--dialect <dialect>', 'req (plain REQ), mdp (MDP/0.1, any RFC 7 broker) or nsz (this project\'s broker only); default: mdp with -s, else req, or nsz with --lines')
    .option('--lines', 'batch mode: send each line of stdin as a job, print the replies in input order')
    .option('--concurrency <n>', 'batch mode: how many jobs in flight, one socket each in the req and mdp dialects (default: 16)')
    .version(version(), '-V, --version')
    .helpOption('-h, --help', 'show this help')
    .showHelpAfterError('(run zmq-client --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s)
    })
}

function settings (command: Command): Settings {
  const o = command.opts<Record<string, string | boolean | undefined>>()
  const lines = o['lines'] === true
  if (o['concurrency'] !== undefined && !lines) throw new UsageError('--concurrency needs --lines')
  const service = o['service'] as string | undefined
  const dialect = parseDialect(o['dialect'] as string | undefined, service, lines)
  const concurrency = o['concurrency'] === undefined ? 16 : parseCount('--concurrency', o['concurrency'] as string, 1)
  const identity = o['identity'] as string | undefined
  if (identity !== undefined && lines && dialect !== 'nsz' && concurrency > 1) {
    // Each request in flight has a socket of its own, and a broker refuses a second
    // connection under a routing id it holds.
    throw new UsageError(`--identity in batch mode needs --concurrency 1 in the ${dialect} dialect (one socket per request in flight)`)
  }
  return {
    endpoint: o['endpoint'] as string,
    timeout: parseSeconds(o['timeout'] as string),
    retries: parseCount('--retries', o['retries'] as string, 0),
    identity,
    service,
    dialect,
    lines,
    concurrency
  }
}

function parseDialect (value: string | undefined, service: string | undefined, lines: boolean): Dialect {
  if (value === undefined) return service !== undefined ? 'mdp' : lines ? 'nsz' : 'req'
  const dialect = DIALECTS.find((d) => d === value)
  if (dialect === undefined) throw new UsageError(`--dialect must be one of ${DIALECTS.join(', ')} (got '${value}')`)
  if (dialect === 'req' && service !== undefined) throw new UsageError('--dialect req carries no service: leave out -s, or use --dialect mdp')
  if (dialect === 'mdp' && service === undefined) throw new UsageError('--dialect mdp needs a service (-s)')
  return dialect
}

/** An option error of the clients, in the words of the command line. */
function usageMessage (err: Error): string {
  return err.message.replace(/^options\.(\w+)/, (_, name: string) => `--${name}`)
}

/**
 * Runs `zmq-client` with `argv` (the arguments after the command name) and resolves with
 * the exit code: 0 when every request got a reply, 1 when the client gave up or the
 * server replied with a failure status, 2 on bad usage. Never exits the process.
 */
export async function main (argv: readonly string[], io: CliIo = process): Promise<number> {
  const command = program(io)
  let s: Settings
  try {
    command.parse(argv as string[], { from: 'user' })
    s = settings(command)
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
    }
    if (err instanceof UsageError) {
      io.stderr.write(`${NAME}: ${err.message}\n`)
      return ExitCode.USAGE
    }
    throw err
  }
  try {
    return s.lines ? await batch(s, io) : await single(s, io)
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      io.stderr.write(`${NAME}: ${usageMessage(err)}\n`)
      return ExitCode.USAGE
    }
    throw err
  }
}

async function readAll (stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Drops one trailing newline, as the seed's `chomp` does. */
function chomp (input: Buffer): Buffer {
  let end = input.length
  if (end > 0 && input[end - 1] === 0x0a) end--
  if (end > 0 && input[end - 1] === 0x0d) end--
  return input.subarray(0, end)
}

/**
 * Why a request failed, in words. `unread` counts the replies that came in another
 * dialect than the one sent: then the server is not offline, it speaks otherwise.
 */
function failure (err: unknown, unread = 0): string {
  if (isClientError(err, ClientErrorCode.TIMEOUT)) {
    if (unread > 0) return `the server answered in a dialect other than ${NSZC} (${unread} ${unread === 1 ? 'reply' : 'replies'} not read): try --dialect mdp with -s, or --dialect req (${err.message})`
    return `server seems to be offline, abandoning (${err.message})`
  }
  if (err instanceof Error) return err.message
  return String(err)
}

/** Sends one request in the command's dialect. */
type Send = (payload: Buffer | string) => Promise<Buffer[]>

/** The clients of a dialect: how to send, how many replies could not be read, and the close. */
interface Sender {
  readonly send: Send
  readonly unread: () => number
  readonly close: () => void
}

function lazyPirate (s: Settings, io: CliIo): LazyPirateClient {
  return new LazyPirateClient({
    endpoint: s.endpoint,
    timeout: s.timeout,
    retries: s.retries,
    ...(s.identity === undefined ? {} : { identity: s.identity }),
    ...(s.dialect === 'mdp' ? { service: s.service! } : {}),
    onRetry: (e) => {
      io.stderr.write(`${NAME}: no reply within ${s.timeout / 1000} s, retrying (${e.attempt}/${e.retries})\n`)
    }
  })
}

/**
 * The command's clients: one `Client` socket for `nsz`, which matches replies by request
 * id; for `req` and `mdp`, which carry no id, one REQ socket per request in flight, made
 * when first needed, up to `concurrency`.
 */
function sender (s: Settings, io: CliIo, concurrency: number): Sender {
  if (s.dialect === 'nsz') {
    const client = new Client({
      endpoint: s.endpoint,
      timeout: s.timeout,
      retries: s.retries,
      maxInFlight: concurrency,
      ...(s.identity === undefined ? {} : { identity: s.identity })
    })
    return { send: (payload) => client.request(s.service ?? '', payload), unread: () => client.stats.malformed, close: () => { client.close() } }
  }
  const all = [lazyPirate(s, io)]
  const idle = [...all]
  const send: Send = async (payload) => {
    let client = idle.pop()
    if (client === undefined) all.push(client = lazyPirate(s, io))
    try {
      return await client.request(payload)
    } finally {
      idle.push(client)
    }
  }
  return { send, unread: () => 0, close: () => { for (const client of all) client.close() } }
}

async function single (s: Settings, io: CliIo): Promise<number> {
  const client = sender(s, io, 1)
  try {
    const payload = chomp(await readAll(io.stdin))
    const reply = await client.send(payload)
    for (const frame of reply) {
      io.stdout.write(frame)
      io.stdout.write('\n')
    }
    return ExitCode.OK
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw err
    io.stderr.write(`${NAME}: ${failure(err, client.unread())}\n`)
    return ExitCode.FAILED
  } finally {
    client.close()
  }
}

async function batch (s: Settings, io: CliIo): Promise<number> {
  const client = sender(s, io, s.concurrency)
  const tty = io.stderr.isTTY === true
  // Results wait here until every earlier line is printed: a window of `concurrency` lines.
  const results = new Map<number, Buffer[] | Error>()
  let read = 0
  let printed = 0
  let failed = 0
  let lastDraw = 0
  let wake: (() => void) | undefined
  let drained: Promise<unknown> | undefined

  const draw = (force: boolean): void => {
    if (!tty) return
    const now = Date.now()
    if (!force && now - lastDraw < PROGRESS_INTERVAL) return
    lastDraw = now
    const failedText = failed > 0 ? `, ${failed} failed` : ''
    io.stderr.write(`\r\x1b[K${NAME}: ${printed} done${failedText}, ${read - printed} in flight`)
  }

  const print = (): void => {
    let result
    while ((result = results.get(printed)) !== undefined) {
      results.delete(printed)
      const line = printed + 1
      printed++
      let ok: boolean
      if (result instanceof Error) {
        failed++
        if (tty) io.stderr.write('\r\x1b[K')
        io.stderr.write(`${NAME}: line ${line}: ${failure(result, client.unread())}\n`)
        // An empty line keeps the output aligned with the input.
        ok = io.stdout.write('\n')
      } else {
        ok = io.stdout.write(result.length === 1 ? Buffer.concat([result[0]!, NEWLINE]) : Buffer.concat([...result, NEWLINE]))
      }
      if (!ok && drained === undefined) drained = once(io.stdout, 'drain').finally(() => { drained = undefined })
    }
    draw(false)
    wake?.()
  }

  try {
    const lines = createInterface({ input: io.stdin, crlfDelay: Infinity })
    const progress = (): Promise<void> => new Promise<void>((resolve) => { wake = resolve })
    for await (const line of lines) {
      // Wait for room in the window, and for stdout to drain when it is full.
      for (;;) {
        if (drained !== undefined) await drained
        else if (read - printed >= s.concurrency) await progress()
        else break
      }
      const index = read++
      client.send(line).then(
        (body) => { results.set(index, body); print() },
        (err: unknown) => { results.set(index, err instanceof Error ? err : new Error(String(err))); print() }
      )
    }
    for (;;) {
      if (printed < read) await progress()
      else if (drained !== undefined) await drained
      else break
    }
    if (tty && read > 0) {
      draw(true)
      io.stderr.write('\n')
    }
    return failed === 0 ? ExitCode.OK : ExitCode.FAILED
  } finally {
    client.close()
  }
}

const NEWLINE = Buffer.from('\n')
