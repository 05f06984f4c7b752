/**
 * `nsz serve --user` (and `--group`) started as root: the broker and every worker,
 * those of a HUP too, run as that user and group (`/proc/<pid>/status`) and serve;
 * with a log file and a pid file, the files are handed over before the drop, the
 * workers log to the file, and the pid file and the control socket are gone after the
 * stop; or the server refuses to start, saying which directory and what to do.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventually, expectRunsAs, groupGone, letUserReachCheckout, logRecords, otherGroup, tempDir, unprivilegedUser, type LogRecord } from '@net-server/test-support'
import { runNsz, serve, statusJson, statusUntil, zmqClient } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

const user = unprivilegedUser()
if (user !== undefined && process.getuid?.() === 0) letUserReachCheckout(user)

/** A temporary directory that any user may enter (a fresh one is its owner's only). */
function openDir (): string {
  const dir = tempDir('nsz-user-')
  chmodSync(dir, 0o755)
  return dir
}

describe.skipIf(user === undefined)('nsz serve --user, started as root', () => {
  const { name, uid, gid } = user ?? { name: '', uid: -1, gid: -1 }

  /** A directory `sub` of `top` that belongs to the user. */
  const usersDir = (top: string, sub: string): string => {
    const dir = join(top, sub)
    mkdirSync(dir)
    chownSync(dir, uid, gid)
    return dir
  }

  it('hands the log file, the pid file and the control socket over to the user; its workers log; the files are gone after the stop', async () => {
    const top = openDir()
    const run = usersDir(top, 'run')
    const pidFile = join(run, 'jobs.pid')
    const logFile = join(top, 'log', 'jobs.log') // its directory made by the server, as root
    const { proc, frontend } = await serve(['--min-servers', '2', '--min-spare-servers', '0', '--log-level', '4', '--log-file', logFile, '--pid-file', pidFile, '--user', name])
    await proc.line(/^ready workers=2$/)
    expect(await zmqClient(frontend, 'hello')).toEqual({ code: 0, stdout: 'hello\n', stderr: '' })

    const status = await statusJson(pidFile)
    const children = status.children.map((c) => c.pid)
    expect(children).toHaveLength(2)
    for (const pid of [proc.pid, ...children]) expectRunsAs(pid, uid, gid)
    for (const file of [logFile, pidFile, `${pidFile}.sock`]) expect(statSync(file).uid).toBe(uid)
    expect(statSync(pidFile).mode & 0o777).toBe(0o644)

    const records = (): LogRecord[] => logRecords(logFile)
    // The children opened the file as the user and wrote to it.
    for (const pid of children) expect(records()).toContainEqual(expect.objectContaining({ pid, msg: 'child ready' }))
    // The log directory is root's: the start said that a moved file cannot be made anew ...
    expect(records()).toContainEqual(expect.objectContaining({ pid: proc.pid, msg: expect.stringContaining(`may not create files in ${join(top, 'log')}`) }))
    // ... and a rotation then is a warning in the old file, not the end of the server.
    const rotated = `${logFile}.1`
    renameSync(logFile, rotated)
    proc.signal('SIGUSR1')
    const warned = (): boolean => readFileSync(rotated, 'utf8').includes(`"pid":${proc.pid},"msg":"cannot reopen the log file ${logFile}: EACCES`)
    await eventually(warned, 'the broker to warn that it cannot reopen its log file', 10_000)
    expect((await statusJson(pidFile)).pid).toBe(proc.pid)

    proc.signal('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
    expect(proc.stderr).toBe('')
    expect(readdirSync(run)).toEqual([])
  })

  it('runs the broker and every worker as the user and the group given, the workers of a HUP too, and serves', async () => {
    const group = otherGroup(user!)
    const pidFile = join(usersDir(openDir(), 'run'), 'jobs.pid')
    const { proc, frontend } = await serve(['--min-servers', '2', '--min-spare-servers', '0', '--log-level', '1', '--pid-file', pidFile,
      '--user', name, '--group', group.name, fixture('cli-app.js')])
    await proc.line(/^ready workers=2$/)
    const first = (await statusJson(pidFile)).children.map((c) => c.pid)
    expect(first).toHaveLength(2)
    for (const pid of [proc.pid, ...first]) expectRunsAs(pid, uid, group.gid)
    expect(await zmqClient(frontend, 'hello')).toEqual({ code: 0, stdout: 'HELLO\n', stderr: '' })

    proc.signal('SIGHUP')
    const renewed = (await statusUntil(pidFile, (s) => s.children.length === 2 && s.children.every((c) => !first.includes(c.pid)), 'two new workers')).children.map((c) => c.pid)
    for (const pid of renewed) expectRunsAs(pid, uid, group.gid)
    const answered = await zmqClient(frontend, 'pid')
    expect(answered).toMatchObject({ code: 0, stderr: '' })
    expect(renewed).toContain(Number(answered.stdout.trim()))

    proc.signal('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
    expect(proc.stderr).toBe('')
  })

  it('reopens a log file moved away in a directory the user owns', async () => {
    const logFile = join(usersDir(openDir(), 'log'), 'jobs.log')
    const { proc } = await serve(['--min-servers', '1', '--min-spare-servers', '0', '--log-level', '4', '--log-file', logFile, '--user', name])
    await proc.line(/^ready workers=1$/)
    renameSync(logFile, `${logFile}.1`)
    proc.signal('SIGUSR1')
    await eventually(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"msg":"log reopened"'), 'the broker to reopen its log file', 10_000)
    expect(statSync(logFile).uid).toBe(uid)
    proc.signal('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
    expect(proc.stderr).toBe('')
  })

  it('refuses to start when the user could not remove the pid file and the control socket on stop, naming the directory and the fix', async () => {
    const top = openDir()
    const pidFile = join(top, 'jobs.pid')
    const { code, stdout, stderr } = await runNsz(['serve', '--port', '0,0', '--min-servers', '1', '--log-level', '0', '--pid-file', pidFile, '--user', name])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(new RegExp(`^nsz: pid file ${pidFile}: user '${name}', which the server runs as once it has dropped privileges, could not remove it on stop: directory ${top} \\(owner uid 0, group 0, mode 0755\\) does not let that user write\\. Give the directory to the user \\(chown ${name} ${top}; systemd: RuntimeDirectory=\\)`))
    // Refused before the drop: root removed what it had made.
    expect(readdirSync(top)).toEqual([])
  })

  it('refuses to start when the user cannot reach the log file', async () => {
    const top = openDir()
    const hidden = join(top, 'private')
    mkdirSync(hidden, { mode: 0o700 })
    const logFile = join(hidden, 'jobs.log')
    const { code, stdout, stderr } = await runNsz(['serve', '--port', '0,0', '--min-servers', '1', '--log-file', logFile, '--user', name])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain(`nsz: log file ${logFile}: user '${name}' cannot reach it, as it may not enter directory ${hidden} (owner uid 0, group 0, mode 0700)`)
  })
})
