import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
