/**
 * One child process as the parent sees and drives it: its entry in the tally, and
 * the two ways to reach it (an IPC message, a signal). The supervisor keeps a table
 * of them.
 */
import type { ChildProcess, Serializable, SendHandle } from 'node:child_process'
import type { ChildState, Clock } from '@net-server/core'
import type { StopCandidate } from './scaling.js'

/** One child in the parent's tally, as {@link PreForkServer.children} reports it. */
export interface ChildInfo {
  /** The child's process id. */
  readonly pid: number
  /** `starting` until it reports ready, then `waiting` / `processing`, `exiting` once told to stop. */
  readonly state: ChildState
  /** Requests it started (`processing` transitions). */
  readonly jobs: number
  /** When it was spawned (ms since the epoch). */
  readonly startedAt: number
  /** When it reported ready, if it has. */
  readonly readyAt: number | undefined
  /** Incremented by every rolling restart (HUP); children of older generations are being replaced. */
  readonly generation: number
  /** True while it waits for its replacement to be ready (max requests reached, HUP). */
  readonly retiring: boolean
}

/** A child of the pool, with what the parent keeps to drive it. */
export class PoolChild implements ChildInfo, StopCandidate {
  readonly pid: number
  readonly process: ChildProcess
  readonly startedAt: number
  readonly generation: number
  state: ChildState = 'starting'
  jobs = 0
  readyAt: number | undefined
  retiring = false
  /** It was told to stop (by IPC or SIGTERM). */
  stopSent = false
  /** It was killed on purpose: its exit is not a boot failure. */
  killed = false
  /** Its exit was seen (or it was found gone). */
  exited = false
  /** It asked for its bootstrap data: from then on it listens to the parent's messages. */
  listening = false
  /** The parent's count of log reopens (USR1) that this child was told of, or that came before it started. */
  logReopens = 0
  /** When its IPC channel closed, if it did. */
  disconnectedAt: number | undefined
  /** Runs out at `childStartTimeout` unless it reports ready first. */
  bootTimer: NodeJS.Timeout | undefined
  /** Runs out at `gracefulTimeout` once it was told to stop. */
  killTimer: NodeJS.Timeout | undefined

  constructor (pid: number, process: ChildProcess, startedAt: number, generation: number) {
    this.pid = pid
    this.process = process
    this.startedAt = startedAt
    this.generation = generation
  }

  /** A frozen copy of its tally entry. */
  info (): ChildInfo {
    const { pid, state, jobs, startedAt, readyAt, generation, retiring } = this
    return Object.freeze({ pid, state, jobs, startedAt, readyAt, generation, retiring })
  }

  /** Sends an IPC message (and a handle); a failure goes to `onError`, never thrown. False when it was not sent. */
  send (message: Serializable, onError: (err: Error) => void, handle?: SendHandle): boolean {
    try {
      return this.process.send(message, handle, (err) => {
        if (err !== null && !this.exited) onError(err)
      })
    } catch (err) {
      onError(err as Error)
      return false
    }
  }

  /** Sends a signal; a child that is already gone is ignored (its exit event follows). */
  signal (signal: NodeJS.Signals): void {
    try {
      this.process.kill(signal)
    } catch {
      // Already gone: its exit event follows.
    }
  }

  /** Clears its boot and kill timers. */
  clearTimers (clock: Clock): void {
    clock.clearTimeout(this.bootTimer)
    clock.clearTimeout(this.killTimer)
    this.bootTimer = undefined
    this.killTimer = undefined
  }
}

/** Sets the process title; some platforms refuse, and the title is cosmetic. */
export function setTitle (title: string): void {
  try {
    process.title = title
  } catch {
    // Refused: the process keeps its title.
  }
}
