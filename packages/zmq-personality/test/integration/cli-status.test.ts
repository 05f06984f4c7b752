import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { groupGone, tempDir, text } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { nsz, runNsz, serve, statusJson, statusUntil } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

describe('nsz status', () => {
  it('shows a live server as a table and as JSON', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend, backend } = await serve(['--min-servers', '2', '--max-servers', '6', '--min-spare-servers', '0', '--concurrency', '3', '--log-level', '1', '--pid-file', pidFile, fixture('cli-app.js')])
    await proc.line(/^ready workers=2$/)
    const client = new NszClient(frontend)
    for (let i = 0; i < 5; i++) expect(text((await client.call('default', `job ${i}`)).body)).toEqual([`JOB ${i}`])

    // The rate counts whole seconds of a ten-second window: once the seconds of the five
    // jobs are over, it is five jobs over nine seconds.
    const status = await statusUntil(pidFile, (s) => s.served === 5 && Math.abs(s.jobsPerSecond - 5 / 9) < 1e-9, 'five jobs served and counted')
    expect(status).toMatchObject({ pid: proc.pid, frontend, backend, limits: { minServers: 2, maxServers: 6 }, queued: 0, inFlight: 0, remoteWorkers: 0 })
    expect(status.children).toHaveLength(2)
    // Every loss counter is there, by kind, none of them counted.
    expect(status).toMatchObject({ errors: {}, heldBytes: 0 })
    expect(status.losses).toMatchObject({ strayReplies: 0, jobsLost: 0 })
    for (const counts of [status.losses.refused, status.losses.undelivered, status.losses.registrationsRefused, status.losses.workersDropped]) {
      expect(Object.values(counts).every((n) => n === 0)).toBe(true)
    }
    expect(Object.keys(status.losses.refused)).toContain('clientLimit')
    expect(status.children.reduce((sum, c) => sum + c.jobs, 0)).toBe(5)
    expect(status.slots).toEqual({ total: 6, inUse: 0 })
    for (const child of status.children) {
      expect(child).toMatchObject({ state: 'waiting', slots: 3, running: 0 })
      expect(child.age).toBeGreaterThan(0)
    }

    const { code, stdout } = await runNsz(['status', '--pid-file', pidFile])
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^zmq broker \\d+-\\d+  pid ${proc.pid}  up \\d+s$`))
    expect(lines[1]).toBe(`frontend ${frontend}  backend ${backend}`)
    expect(lines[2]).toBe('workers  2 (min 2, max 6)')
    expect(lines[3]).toBe('slots    0/6 in use')
    expect(lines[4]).toBe('queue    0 waiting, 0 in flight')
    expect(lines[5]).toMatch(/^jobs {5}5 served, \d+\.\d\/s$/)
    expect(lines[7]).toMatch(/^PID +STATE +JOBS +SLOTS +AGE$/)
    const rows = lines.slice(8).map((l) => l.split(/\s+/))
    expect(rows.map((r) => Number(r[0])).sort()).toEqual(status.children.map((c) => c.pid).sort())
    for (const row of rows) {
      expect(row[1]).toBe('waiting')
      expect(row[3]).toBe('0/3')
      expect(row[4]).toMatch(/^\d+s$/)
    }
  })

  it('exits 1 when there is no server', async () => {
    const dir = tempDir()
    const missing = await runNsz(['status', '--pid-file', join(dir, 'none.pid')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(`nsz: no server: pid file ${join(dir, 'none.pid')} cannot be read (ENOENT)\n`)

    // a pid file left by a process that has exited
    const gone = spawn(process.execPath, ['-e', ''])
    const pid = gone.pid!
    await new Promise((resolve) => gone.once('exit', resolve))
    const stale = join(dir, 'stale.pid')
    writeFileSync(stale, `${pid}\n`)
    const dead = await runNsz(['status', '--pid-file', stale])
    expect(dead.code).toBe(1)
    expect(dead.stderr).toBe(`nsz: no server: process ${pid} from ${stale} is not running\n`)

    // a live process that is not a server: no answer within the timeout
    const other = join(dir, 'other.pid')
    writeFileSync(other, `${process.pid}\n`)
    const silent = await runNsz(['status', '--pid-file', other, '--timeout', '0.2'])
    expect(silent.code).toBe(1)
    expect(silent.stderr).toBe(`nsz: no answer on ipc://${other}.sock within 0.2 s (only nsz serve answers status, and only with --pid-file or --control-endpoint)\n`)
  })
})

describe('nsz worker', () => {
  it('joins a running nsz serve over TCP and serves its jobs', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    // a broker without local workers
    // The pool joins over plain loopback TCP: the backend must admit it explicitly.
    const broker = await serve(['--min-servers', '0', '--min-spare-servers', '0', '--log-level', '1', '--insecure-backend', '--pid-file', pidFile])
    await broker.proc.line(/^ready workers=0$/)
    const poolPidFile = join(tempDir(), 'pool.pid')
    const pool = nsz(['worker', '--connect', broker.backend, '--min-servers', '2', '--min-spare-servers', '0', '--log-level', '1', '--pid-file', poolPidFile, fixture('cli-app.js')])
    await pool.line(new RegExp(`^connecting backend=${broker.backend.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))
    await pool.line(/^ready workers=2$/)
    const status = await statusUntil(pidFile, (s) => s.remoteWorkers === 2, 'two remote workers')
    expect(status.children).toEqual([])
    // The pool answers nsz status too: its own children, and the backend it joined.
    const poolStatus = await statusUntil(poolPidFile, (s) => s.children.length === 2, 'the pool\'s two children')
    expect(poolStatus).toMatchObject({ pid: pool.pid, backend: broker.backend, limits: { minServers: 2 } })

    const client = new NszClient(broker.frontend)
    const pids = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const reply = await client.call('default', 'pid')
      expect(reply.status).toBe(200)
      pids.add(text(reply.body)[0]!)
    }
    // least recently used first: both workers of the pool took jobs, and neither is the broker
    expect(pids.size).toBe(2)
    expect(pids.has(String(broker.proc.pid))).toBe(false)
    expect(pids.has(String(pool.pid))).toBe(false)

    pool.proc.kill('SIGTERM')
    expect(await pool.exited()).toBe(0)
    await groupGone(pool.pid)
    expect(pool.lines).toHaveLength(2)
    await statusUntil(pidFile, (s) => s.remoteWorkers === 0, 'the workers to leave')
    expect((await statusJson(pidFile)).pid).toBe(broker.proc.pid)
  })
})
