/**
 * What the kernel says about a process: whether it still runs, its title, the CPU
 * it used. Linux only (`/proc`), as the servers' process titles are.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { onTestFinished } from 'vitest'
import { eventually } from './async.js'

/**
 * The fields of `/proc/<pid>/stat` after the process name, or `undefined` when no
 * such process exists. Field 2, the name in parentheses, may itself hold spaces and
 * parentheses (`(zmq worker 6661)`): the fields start after its last `)`. Index 0 is
 * the state (field 3), index 11 and 12 are utime and stime (fields 14 and 15).
 */
export function procStat (pid: number): string[] | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return undefined
  }
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ')
}

/** A process's ids, from the `Uid:`, `Gid:` and `Groups:` lines of `/proc/<pid>/status` (real, effective, saved, filesystem). */
export interface ProcIds {
  readonly uid: readonly number[]
  readonly gid: readonly number[]
  readonly groups: readonly number[]
}

/** The ids a running process has now; throws when there is no such process. */
export function procIds (pid: number): ProcIds {
  const lines = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')
  const field = (name: string): number[] => {
    const line = lines.find((l) => l.startsWith(`${name}:`))
    if (line === undefined) throw new Error(`/proc/${pid}/status has no ${name} line`)
    return line.slice(name.length + 1).trim().split(/\s+/).filter((v) => v.length > 0).map(Number)
  }
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') }
}

/**
 * The paths of the files a process holds open, from `/proc/<pid>/fd`: a file moved
 * away shows under its new name, so a log that was not reopened shows as the rotated
 * one. Throws when there is no such process.
 */
export function openFiles (pid: number): string[] {
  const paths: string[] = []
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      paths.push(readlinkSync(`/proc/${pid}/fd/${fd}`))
    } catch {
      // Closed between the listing and the read (the fd of the listing itself, say).
    }
  }
  return paths
}

/** True while a process with this pid runs: it exists and is not a zombie waiting to be reaped. */
export function alive (pid: number): boolean {
  const state = procStat(pid)?.[0]
  return state !== undefined && state !== 'Z' && state !== 'X'
}

/** True while any process of the process group `pgid` exists. */
export function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Waits until none of `pids` runs. They are not this process's children, so nothing
 * signals their end: this asks every 50 ms, up to the deadline.
 */
export async function allGone (pids: readonly number[], timeout: number): Promise<void> {
  await eventually(() => !pids.some(alive), () => `the end of ${pids.filter(alive).join(', ')}`, timeout)
}

/** Waits until no process of the group `pgid` is left (asking every 50 ms, as {@link allGone}). */
export async function groupGone (pgid: number, timeout = 10_000): Promise<void> {
  await eventually(() => !groupAlive(pgid), `the end of process group ${pgid}`, timeout)
}

/** The process title as `ps` shows it: the command line in /proc. */
export function title (pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replaceAll('\0', ' ').trim()
}

/** Kills `child` if it still runs and waits for its exit. */
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
