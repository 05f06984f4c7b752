import { accessSync, constants, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { pidFileError, pidFileLockedError } from './errors.js'

/** A file and what a message calls it: `['/run/nsz/jobs.pid.sock', 'control socket']`. */
export type NamedFile = readonly [path: string, what: string]

/** True when a process with this pid exists (also when it belongs to another user). */
export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Net::Server's `pid_file`: checked before bind (refused when a live process owns
 * it, taken over when stale), written after bind, removed on close.
 */
export class PidFile {
  readonly path: string
  #written = false

  constructor (path: string) {
    this.path = path
  }

  /** The pid written in the file, or `undefined` when there is no readable file. */
  read (): number | undefined {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw pidFileError(this.path, 'cannot be read', err)
    }
    const pid = Number.parseInt(text.trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  }

  /**
   * Throws when the file names a live process other than this one, or when it
   * cannot be written (so that the server fails before it binds, not after).
   */
  check (): void {
    const pid = this.read()
    if (pid !== undefined && pid !== process.pid && isProcessAlive(pid)) throw pidFileLockedError(this.path, pid)
    try {
      accessSync(dirname(this.path), constants.W_OK)
    } catch (err) {
      throw pidFileError(this.path, 'cannot be written: check the directory exists and is writable', err)
    }
  }

  /** Checks again (another server may have started meanwhile), then writes this process's pid. */
  write (): void {
    this.check()
    try {
      writeFileSync(this.path, `${process.pid}\n`, { mode: 0o644 })
    } catch (err) {
      throw pidFileError(this.path, 'cannot be written: check the directory exists and is writable', err)
    }
    this.#written = true
  }

  /**
   * Removes the file if this process wrote it and it still names this process. Throws
   * `NSZ_ERR_PID_FILE` when it is there but cannot be read or removed.
   */
  remove (): void {
    if (!this.#written) return
    this.#written = false
    if (this.read() !== process.pid) return
    try {
      unlinkSync(this.path)
    } catch (err) {
      // Already gone: nothing of ours to remove.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw pidFileError(this.path, 'cannot be removed', err)
    }
  }
}

/**
 * Removes a server's runtime files and its pid file when it closes. What cannot be
 * removed is passed to `warn` (one message each), and the rest are still removed.
 */
export function removeFiles (files: readonly NamedFile[], pidFile: PidFile | undefined, warn: (message: string) => void): void {
  for (const [path, what] of files) {
    try {
      rmSync(path, { force: true })
    } catch (err) {
      warn(`${what} ${path} cannot be removed: ${(err as Error).message}`)
    }
  }
  try {
    pidFile?.remove()
  } catch (err) {
    warn((err as Error).message)
  }
}
