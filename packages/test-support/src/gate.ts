/**
 * Gates: a job that a test holds open until it has seen what it waits for, across
 * processes. The test makes a gate (a path in its temporary directory) and passes the
 * path in a request; the fixture's job waits for the file to appear. A job of a fixed
 * length would race the machine: on a loaded one the job may end before the event the
 * test is watching for.
 */
import { existsSync, watch, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { tempDir } from './temp.js'

/** A gate a test opens; `path` goes into the request of the job it holds. */
export interface Gate {
  readonly path: string
  /** Opens the gate: every job waiting on it goes on. */
  readonly open: () => void
}

/** A new closed gate in a temporary directory removed when the test finishes. */
export function gate (name = 'gate'): Gate {
  const path = join(tempDir('nsz-gate-'), name)
  return { path, open: () => { writeFileSync(path, 'open\n') } }
}

/**
 * Resolves once the gate at `path` is open (its file exists), or with `false` when
 * `abort` fires first. For the fixtures' jobs: it watches the directory, it never polls.
 */
export async function whenOpen (path: string, abort?: AbortSignal): Promise<boolean> {
  if (existsSync(path)) return true
  if (abort?.aborted === true) return false
  return await new Promise<boolean>((resolve) => {
    const watcher = watch(dirname(path), (_event, file) => {
      if ((file === null || file === basename(path)) && existsSync(path)) done(true)
    })
    const onAbort = (): void => { done(false) }
    const done = (open: boolean): void => {
      watcher.close()
      abort?.removeEventListener('abort', onAbort)
      resolve(open)
    }
    abort?.addEventListener('abort', onAbort)
    // The file may have appeared between the first check and the watch.
    if (existsSync(path)) done(true)
  })
}
