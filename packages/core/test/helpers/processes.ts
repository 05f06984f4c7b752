import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

/** A fresh temporary directory, removed when the test finishes. */
export function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsz-core-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Stops `child` if it is still running and waits for it to exit. */
export async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/** A real Node process that idles until it is killed (killed when the test finishes). */
export async function liveProcess (): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' })
  onTestFinished(async () => await stop(child))
  await once(child, 'spawn')
  return child as ChildProcess & { pid: number }
}

/** The pid of a real process that has exited. */
export async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  const exited = once(child, 'exit')
  await once(child, 'spawn')
  await exited
  return child.pid!
}

const root = fileURLToPath(new URL('../../../../', import.meta.url))
const fixtureMain = fileURLToPath(new URL('../fixtures/line-server-main.ts', import.meta.url))

/** One JSON line the fixture reported. */
export interface FixtureEvent {
  event: string
  [field: string]: unknown
}

/** A fixture server process with its reported events. */
export interface Fixture {
  child: ChildProcess & { pid: number }
  events: FixtureEvent[]
  /** Resolves with the next (or an already seen, not yet awaited) event named `name`. */
  waitFor: (name: string) => Promise<FixtureEvent>
  exited: Promise<[number | null, NodeJS.Signals | null]>
  stderr: () => string
}

/** Starts the fixture server as a real process with `args` as its command line; killed when the test finishes. */
export function startFixture (args: readonly string[]): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@net-server/source', fixtureMain, ...args], {
    cwd: root, stdio: ['pipe', 'pipe', 'pipe']
  }) as ChildProcess & { pid: number }
  onTestFinished(async () => await stop(child))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const events: FixtureEvent[] = []
  const consumed = new Set<FixtureEvent>()
  const waiters: Array<{ name: string, resolve: (e: FixtureEvent) => void }> = []
  let errText = ''
  child.stderr!.on('data', (chunk) => { errText += String(chunk) })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as FixtureEvent
    events.push(e)
    const i = waiters.findIndex((w) => w.name === e.event)
    if (i !== -1) {
      consumed.add(e)
      waiters.splice(i, 1)[0]!.resolve(e)
    }
  })
  const waitFor = async (name: string): Promise<FixtureEvent> => {
    const seen = events.find((e) => e.event === name && !consumed.has(e))
    if (seen !== undefined) {
      consumed.add(seen)
      return seen
    }
    return await Promise.race([
      new Promise<FixtureEvent>((resolve) => waiters.push({ name, resolve })),
      exited.then(([code, signal]) => {
        throw new Error(`fixture exited (${code ?? signal}) before '${name}': ${errText}`)
      })
    ])
  }
  return { child, events, waitFor, exited, stderr: () => errText }
}
