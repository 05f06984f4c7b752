/**
 * Runs the `nsz` command as users do: the built `dist/bin/nsz.js` (the source through
 * tsx when there is no build), each in its own process group so that a test can tell
 * whether the command left any process behind.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import type { ZmqServerStatus } from '@net-server/zmq'
import { fileURLToPath } from 'node:url'
import { BUILT_PACKAGES, TSX, TestProcess, groupGone, requireFreshBuild, runZmqClient } from '@net-server/test-support'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** How to start `nsz`: its build, else its source through tsx. */
export const NSZ: readonly string[] = existsSync(here('../../dist/bin/nsz.js'))
  ? [here('../../dist/bin/nsz.js')]
  : [...TSX, here('../../src/bin/nsz.ts')]

let checked = false

/** How to start `nsz`: another entry instead of {@link NSZ}, a working directory, a soft limit of open files (`ulimit -n`). */
export interface NszOptions {
  readonly argv0?: readonly string[]
  readonly cwd?: string
  readonly openFiles?: number
}

/** Starts `nsz ARGS`; the process group is killed when the test ends. Fails on a build older than its source. */
export function nsz (args: readonly string[], options: NszOptions = {}): TestProcess {
  // The build runs the other packages' builds too: all of them must be current.
  if (!checked && NSZ[0] === here('../../dist/bin/nsz.js')) requireFreshBuild(BUILT_PACKAGES)
  checked = true
  const argv = [process.execPath, ...options.argv0 ?? NSZ, ...args]
  // The shell sets the limit and becomes nsz (exec): the process is nsz itself.
  const [command, ...rest] = options.openFiles === undefined ? argv : ['bash', '-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, ...argv]
  return new TestProcess(command!, rest, { group: true, json: false, cwd: options.cwd })
}

/** Runs `nsz ARGS` to its end: exit code and output, after every process it started is gone. */
export async function runNsz (args: readonly string[], timeout = 20_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const proc = nsz(args)
  const code = await proc.exited(timeout)
  await groupGone(proc.pid)
  return { code, stdout: proc.stdout, stderr: proc.stderr }
}

/** Makes a key pair with `nsz keygen --out DIR/NAME.key.json`: the file and the public key it printed. */
export async function keyPair (dir: string, name: string): Promise<{ file: string, publicKey: string }> {
  const file = join(dir, `${name}.key.json`)
  const { code, stdout, stderr } = await runNsz(['keygen', '--out', file])
  if (code !== 0) throw new Error(`nsz keygen exited ${String(code)}: ${stderr}`)
  return { file, publicKey: stdout.trim() }
}

/** A running `nsz serve` and the endpoints of its ready line. */
export interface Serving {
  readonly proc: TestProcess
  readonly frontend: string
  readonly backend: string
}

/** Starts `nsz serve --port 0,0 ARGS` and waits for its ready line. */
export async function serve (args: readonly string[], options: NszOptions = {}): Promise<Serving> {
  const proc = nsz(['serve', '--port', '0,0', ...args], options)
  const [, frontend, backend] = await proc.line(/^listening frontend=(\S+) backend=(\S+)$/)
  return { proc, frontend: frontend!, backend: backend! }
}

/** Sends one request through the `zmq-client` command and resolves with its exit code and output. */
export async function zmqClient (endpoint: string, input: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const { code, stdout, stderr } = await runZmqClient(['--endpoint', endpoint, '--timeout', '10'], input)
  return { code, stdout, stderr }
}

/** `nsz status --json` of a server started with this pid file. */
export async function statusJson (pidFile: string): Promise<StatusJson> {
  const { code, stdout, stderr } = await runNsz(['status', '--pid-file', pidFile, '--json'])
  if (code !== 0) throw new Error(`nsz status exited ${String(code)}: ${stderr}`)
  return JSON.parse(stdout) as StatusJson
}

/** What `nsz status --json` prints. */
export type StatusJson = ZmqServerStatus

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

/** The messages of a server's log lines (JSON on its stderr) that match `pattern`. */
export function logged (proc: { readonly stderr: string }, pattern: RegExp): string[] {
  return proc.stderr.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { msg: string }).msg)
    .filter((msg) => pattern.test(msg))
}

/**
 * How many lines of `kind` the loss log held back, read from the lines of that kind in
 * a log that has ended: the first one, then at most one summary, `N more in the last
 * 10 s (kind), the last: …` (the window is 10 s). Fails on any other shape.
 */
export function suppressed (lines: readonly string[], kind: string): number {
  expect(lines.length).toBeGreaterThanOrEqual(1)
  expect(lines.length).toBeLessThanOrEqual(2)
  const summary = /^(\d+) more in the last 10 s \((.+?)\), the last: /
  expect(lines[0], 'the first line of a kind is written as it is').not.toMatch(summary)
  if (lines.length === 1) return 0
  const [, more, summarised] = summary.exec(lines[1]!) ?? []
  expect(summarised, lines[1]).toBe(kind)
  return Number(more)
}
