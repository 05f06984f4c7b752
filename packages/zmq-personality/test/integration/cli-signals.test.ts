/**
 * Operator signals on `nsz serve` as users send them: USR1 after logrotate moved the
 * log file away reopens it in the broker and in every worker; HUP with an APP module
 * that no longer loads leaves the old workers serving, and a HUP after the fix
 * replaces them.
 */
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Client } from '@net-server/client'
import { eventually, loggedBy, openFiles, tempDir, text } from '@net-server/test-support'
import { serve, statusJson, statusUntil } from '../support/cli.js'
import { client } from '../support/server.js'

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

/** An APP whose job answers `<version> <pid>`. */
const appVersion = (version: string): string => `export default () => \`${version} \${process.pid}\`\n`

/** Requests one after the other until `stop()` (at the end of the test at the latest): who answered, and what failed. */
function requestLoop (c: Client): { stop: () => Promise<{ replies: string[], failures: string[] }> } {
  const state = { running: true }
  const replies: string[] = []
  const failures: string[] = []
  const done = (async () => {
    while (state.running) {
      try {
        replies.push(text(await c.request('', 'which'))[0]!)
      } catch (err) {
        failures.push((err as Error).message)
      }
    }
  })()
  const stop = async (): Promise<{ replies: string[], failures: string[] }> => {
    state.running = false
    await done
    return { replies, failures }
  }
  onTestFinished(async () => { await stop() })
  return { stop }
}

describe('nsz serve and HUP', () => {
  it.each([
    ['throws while it loads', 'throw new Error(\'the settings are missing\')\n', 'the settings are missing'],
    ['has a syntax error', 'export default () => \'x\' +;\n', 'Unexpected token \';\'']
  ])('keeps the old workers serving when the APP module %s, and replaces them once it loads again', async (_, broken, why) => {
    const dir = tempDir()
    const app = join(dir, 'app.mjs')
    const pidFile = join(dir, 'jobs.pid')
    writeFileSync(app, appVersion('v1'))
    const { proc, frontend } = await serve(['--min-servers', '2', '--min-spare-servers', '0', '--log-level', '2', '--pid-file', pidFile,
      '--boot-failure-limit', '3', '--boot-backoff-base', '0.05', '--boot-backoff-max', '0.2', app])
    await proc.line(/^ready workers=2$/)
    const old = (await statusJson(pidFile)).children.map((c) => c.pid).sort((a, b) => a - b)
    expect(old).toHaveLength(2)
    const c = client(frontend)
    expect(text(await c.request('', 'which'))[0]).toMatch(/^v1 \d+$/)

    writeFileSync(app, broken)
    const load = requestLoop(c)
    proc.signal('SIGHUP')
    await proc.until(() => proc.stderr.includes('"msg":"children failed to boot 3 times in a row'), 'the crash loop to be reported')
    // The log says why: each new worker's load error, its exit, and the abandoned restart.
    const failures = proc.stderr.split('\n').filter((l) => l.startsWith('nsz: '))
    expect(failures).toEqual([1, 2, 3].map(() => `nsz: APP module ${app} failed to load: ${why}`))
    expect(proc.stderr).toMatch(/"msg":"child \d+ exited during boot \(exit code 1\); next child in \d+ ms \(boot failure 3 of 3 in a row\)"/)
    expect(proc.stderr).toContain('"msg":"restart abandoned: new children fail to boot; the old children keep serving"')
    expect(proc.stderr).toMatch(/"msg":"children failed to boot 3 times in a row \(last: child \d+ exited during boot \(exit code 1\)\): check the child's log/)
    // The same two workers, and still theirs to serve.
    expect((await statusJson(pidFile)).children.map((c) => c.pid).sort((a, b) => a - b)).toEqual(old)
    const during = await load.stop()
    expect(during.failures).toEqual([])
    expect(during.replies.length).toBeGreaterThan(0)
    for (const reply of during.replies) expect(old).toContain(Number(/^v1 (\d+)$/.exec(reply)?.[1]))
    const after = new Set<string>()
    for (let i = 0; i < 4; i++) after.add(text(await c.request('', 'which'))[0]!)
    for (const reply of after) expect(old).toContain(Number(/^v1 (\d+)$/.exec(reply)?.[1]))

    writeFileSync(app, appVersion('v2'))
    proc.signal('SIGHUP')
    const renewed = await statusUntil(pidFile, (s) => s.children.length === 2 && s.children.every((w) => !old.includes(w.pid)), 'two new workers')
    const fresh = renewed.children.map((w) => w.pid)
    expect(text(await c.request('', 'which'))[0]).toMatch(new RegExp(`^v2 (${fresh.join('|')})$`))

    proc.signal('SIGTERM')
    expect(await proc.exited()).toBe(0)
  })
})
