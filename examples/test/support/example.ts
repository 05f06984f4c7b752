/**
 * Runs the examples as a user does: `node examples/X.js --port 0,0 …` against the
 * built packages, in a process group of their own so that cleanup reaches the workers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

/** The repository root: examples run from here, as the README shows. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The built `nsz` command. */
export const NSZ = fileURLToPath(new URL('../../packages/zmq-personality/dist/bin/nsz.js', import.meta.url))

/** Flags every test passes: free ports, a small pool, quiet logs. */
export const TEST_FLAGS = ['--port', '0,0', '--min-servers', '2', '--max-servers', '4', '--log-level', '1']

/** How long an example may take to bind, and to exit after SIGTERM. */
const START_TIMEOUT = 20_000
const STOP_TIMEOUT = 15_000

/**
 * The examples import the packages' built `dist/`, as users do: without a build they
 * cannot start, so say so instead of timing out.
 */
export function requireBuild (): void {
  for (const pkg of ['core', 'prefork', 'client', 'zmq-personality']) {
    const entry = fileURLToPath(new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url))
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm build\` before the examples' tests`)
  }
}

/** A running example and what it printed. */
export interface Example {
  readonly proc: ChildProcess
  /** The fields of its `listening key=value …` line: `frontend`, `backend`, … */
  readonly ready: Readonly<Record<string, string>>
  /** Everything it wrote on stdout and stderr so far. */
  output: () => string
  /** Sends `signal` (SIGTERM by default) and resolves with how the process ended; rejects past the deadline. */
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * Starts `node <args…>` from the repository root and resolves once it printed its
 * `listening` line. The process and its workers are killed when the test ends.
 */
export async function startExample (args: readonly string[]): Promise<Example> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  const exit = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  onTestFinished(async () => {
    // The whole group: the broker and any worker it left behind.
    try { process.kill(-proc.pid!, 'SIGKILL') } catch {}
    await exit
  })
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })

  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => { fail(`no listening line within ${START_TIMEOUT} ms`) }, START_TIMEOUT)
    const fail = (why: string): void => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')}: ${why}\n${out}`))
    }
    exit.then(({ code, signal }) => { fail(`exited before it listened (code ${code}, signal ${signal})`) }, () => {})
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      buffer += chunk
      const line = buffer.split('\n').slice(0, -1).find((l) => l.startsWith('listening '))
      if (line === undefined) return
      clearTimeout(timer)
      resolve(Object.fromEntries(line.split(' ').slice(1).map((kv) => kv.split('=', 2) as [string, string])))
    })
  })

  return {
    proc,
    ready,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      proc.kill(signal)
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => { reject(new Error(`${args.join(' ')} did not exit within ${STOP_TIMEOUT} ms of ${signal}\n${out}`)) }, STOP_TIMEOUT)
      })
      try {
        return await Promise.race([exit, late])
      } finally {
        clearTimeout(timer)
      }
    }
  }
}

/** The text of a reply's frames. */
export const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString())
