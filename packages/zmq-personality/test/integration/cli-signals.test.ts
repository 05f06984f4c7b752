/**
 * Operator signals on `nsz serve` as users send them: USR1 after logrotate moved the
 * log file away reopens it in the broker and in every worker; HUP with an APP module
 * that no longer loads leaves the old workers serving, and a HUP after the fix
 * replaces them.
 */
import { renameSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventually, loggedBy, openFiles, tempDir } from '@net-server/test-support'
import { serve, statusJson } from '../support/cli.js'

describe('nsz serve and USR1', () => {
  it('reopens the log file moved away in the broker and in every worker', async () => {
    const dir = tempDir()
    const logFile = join(dir, 'jobs.log')
    const rotated = `${logFile}.1`
    const pidFile = join(dir, 'jobs.pid')
    const { proc } = await serve(['--min-servers', '3', '--min-spare-servers', '0', '--log-level', '2', '--log-file', logFile, '--pid-file', pidFile])
    await proc.line(/^ready workers=3$/)
    const workers = (await statusJson(pidFile)).children.map((c) => c.pid)
    expect(workers).toHaveLength(3)
    const pids = [proc.pid, ...workers]
    // Every process of the pool writes to the file, under its own name.
    for (const pid of pids) expect(openFiles(pid)).toContain(logFile)

    renameSync(logFile, rotated) // as logrotate does, before it sends USR1
    for (const pid of pids) expect(openFiles(pid)).toContain(rotated)
    proc.signal('SIGUSR1')
    // Each writes its next line to the new file, and lets go of the moved one (pino
    // closes it just after).
    const stale = (): number[] => pids.filter((pid) => !loggedBy(logFile, 'log reopened').includes(pid) || openFiles(pid).includes(rotated))
    await eventually(() => stale().length === 0,
      () => `every process of the pool (${pids.join(', ')}) to log 'log reopened' in the new file and close the moved one; not done: ${stale().join(', ')}` +
        ` ('log reopened' in the moved file from ${loggedBy(rotated, 'log reopened').join(', ') || 'none'})`, 5000)
    for (const pid of pids) expect(openFiles(pid), `files of ${pid}`).toContain(logFile)
    expect(loggedBy(rotated, 'log reopened')).toEqual([])
    expect((await statusJson(pidFile)).children.map((c) => c.pid)).toEqual(workers)

    proc.signal('SIGTERM')
    expect(await proc.exited()).toBe(0)
    expect(proc.stderr).toBe('')
  })
})
