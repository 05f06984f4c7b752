/**
 * A broker with no children of its own (`--min-servers 0 --max-servers 0`): requests
 * wait for remote workers as they wait for local ones, within `--max-queue`, and `nsz
 * status` lists the remote workers beside the (absent) children.
 */
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { groupGone, tempDir, text } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { keyPair, nsz, runNsz, serve, statusUntil } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

describe('a broker without children', () => {
  it('queues requests until a remote pool with its own keys joins, and lists its workers in nsz status', async () => {
    const dir = tempDir('nsz-broker-only-')
    const keys = async (name: string): Promise<{ file: string, publicKey: string }> => await keyPair(dir, name)
    const brokerKeys = await keys('broker')
    const poolKeys = await keys('pool')
    const pidFile = join(dir, 'broker.pid')
    const broker = await serve(['--min-servers', '0', '--max-servers', '0', '--max-queue', '2', '--service-grace', '0', '--log-level', '1', '--pid-file', pidFile,
      '--curve', 'backend', '--curve-key-file', brokerKeys.file, '--worker-keys', poolKeys.publicKey])
    await broker.proc.line(/^ready workers=0$/)
    const empty = await statusUntil(pidFile, () => true, 'the status')
    expect(empty).toMatchObject({ limits: { minServers: 0, maxServers: 0 }, children: [], remoteWorkers: 0, remote: [], slots: { total: 0, inUse: 0 } })

    // Two requests wait for a worker; the third is past --max-queue and gets 503 at once.
    const client = new NszClient(broker.frontend)
    const waiting = [client.call('default', 'first'), client.call('default', 'second')]
    await statusUntil(pidFile, (s) => s.queued === 2, 'two requests queued')
    const over = await client.call('default', 'third')
    expect(over.status).toBe(503)
    // A service nobody offers, once the grace is over (none here), is unknown.
    expect((await client.call('nothing', 'x')).status).toBe(404)

    const pool = nsz(['worker', '--connect', broker.backend, '--min-servers', '2', '--min-spare-servers', '0', '--concurrency', '2', '--log-level', '1',
      '--curve-server-key', brokerKeys.publicKey, '--curve-key-file', poolKeys.file, fixture('cli-app.js')])
    const served = await Promise.all(waiting)
    expect(served.map((r) => [r.status, text(r.body)])).toEqual([[200, ['FIRST']], [200, ['SECOND']]])
    await pool.line(/^ready workers=2$/)

    const status = await statusUntil(pidFile, (s) => s.remoteWorkers === 2 && s.served === 2, 'two remote workers that served two jobs')
    expect(status).toMatchObject({ children: [], slots: { total: 4, inUse: 0 }, queued: 0, inFlight: 0 })
    expect(status.remote).toHaveLength(2)
    for (const w of status.remote) {
      expect(w).toMatchObject({ host: hostname(), state: 'idle', running: 0, slots: 2, services: ['default'] })
      expect(w.pid).toBeGreaterThan(0)
      expect(w.id).toMatch(/^[0-9a-f]+$/)
    }
    expect(status.remote.reduce((n, w) => n + w.served, 0)).toBe(2)

    const { code, stdout } = await runNsz(['status', '--pid-file', pidFile])
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[2]).toBe('workers  0 (min 0, max 0), 2 remote')
    expect(lines[3]).toBe('slots    0/4 in use')
    const header = lines.findIndex((l) => l.startsWith('REMOTE HOST'))
    expect(lines[header]).toMatch(/^REMOTE HOST +PID +STATE +JOBS +SLOTS +AGE +ID$/)
    const rows = lines.slice(header + 1).map((l) => l.split(/\s{2,}/))
    expect(rows.map((r) => Number(r[1])).sort()).toEqual(status.remote.map((w) => w.pid).sort())
    for (const row of rows) expect(row.slice(0, 3).concat(row[4]!)).toEqual([hostname(), row[1], 'idle', '0/2'])

    // TTIN moves the bounds as on any pool: the broker starts a child of its own; TTOU takes it back.
    broker.proc.proc.kill('SIGTTIN')
    const grown = await statusUntil(pidFile, (s) => s.children.length === 1 && s.children[0]!.state === 'waiting', 'a child of its own')
    expect(grown).toMatchObject({ limits: { minServers: 1, maxServers: 1 }, remoteWorkers: 2 })
    broker.proc.proc.kill('SIGTTOU')
    expect(await statusUntil(pidFile, (s) => s.children.length === 0, 'no child again')).toMatchObject({ limits: { minServers: 0, maxServers: 0 }, remoteWorkers: 2 })

    for (const proc of [pool, broker.proc]) {
      proc.proc.kill('SIGTERM')
      expect(await proc.exited()).toBe(0)
      await groupGone(proc.pid)
    }
  })

  it('lists the workers of pools on one host under the host label each was given (--host-label)', async () => {
    const pidFile = join(tempDir('nsz-host-label-'), 'broker.pid')
    const broker = await serve(['--min-servers', '0', '--max-servers', '0', '--insecure-backend', '--log-level', '1', '--pid-file', pidFile])
    await broker.proc.line(/^ready workers=0$/)
    const pools = ['edge-1', 'edge-2'].map((label) => nsz(['worker', '--connect', broker.backend, '--min-servers', '1', '--min-spare-servers', '0', '--log-level', '1',
      '--host-label', label, fixture('cli-app.js')]))
    for (const pool of pools) await pool.line(/^ready workers=1$/)
    const status = await statusUntil(pidFile, (s) => s.remoteWorkers === 2, 'the two pools\' workers')
    expect(status.remote.map((w) => w.host).sort()).toEqual(['edge-1', 'edge-2'])
    const { stdout } = await runNsz(['status', '--pid-file', pidFile])
    const rows = stdout.split('\n').filter((l) => /^edge-\d /.test(l)).map((l) => l.split(/\s{2,}/)[0])
    expect(rows.sort()).toEqual(['edge-1', 'edge-2'])
    for (const proc of [...pools, broker.proc]) {
      proc.proc.kill('SIGTERM')
      expect(await proc.exited()).toBe(0)
      await groupGone(proc.pid)
    }
  })
})
