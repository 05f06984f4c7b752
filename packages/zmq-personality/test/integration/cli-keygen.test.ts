/**
 * `nsz keygen` as users run it, and its key file in a real broker: written with mode
 * 0600, never overwritten, read by `--curve-key-file`, refused once others can read it.
 */
import { chmodSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventually, groupGone, tempDir } from '@net-server/test-support'
import { connectable } from '../../src/endpoints.js'
import { keyPair, nsz, runNsz, serve, statusUntil } from '../support/cli.js'
import { pipelinedClient } from '../support/clients.js'

describe('nsz keygen', () => {
  it('prints a pair as JSON or as two lines of text, a new one each time', async () => {
    const json = await runNsz(['keygen'])
    expect(json).toMatchObject({ code: 0, stderr: '' })
    const pair = JSON.parse(json.stdout) as Record<string, string>
    expect(Object.keys(pair)).toEqual(['publicKey', 'secretKey'])
    expect(pair.publicKey).toHaveLength(40)
    expect(pair.secretKey).toHaveLength(40)

    const lines = await runNsz(['keygen', '--text'])
    expect(lines.code).toBe(0)
    expect(lines.stdout).toMatch(/^public-key \S{40}\nsecret-key \S{40}\n$/)
    expect(lines.stdout).not.toContain(pair.publicKey)

    const both = await runNsz(['keygen', '--text', '--out', join(tempDir(), 'k.json')])
    expect(both.code).toBe(2)
    expect(both.stderr).toBe('nsz: --text and --out exclude each other: with --out only the public key is printed\n')
  })

  it('writes a key file of mode 0600 that a broker serves with, never overwrites it, and the broker refuses it once others can read it', async () => {
    const file = join(tempDir('nsz-keygen-'), 'broker.key.json')
    const made = await runNsz(['keygen', '--out', file])
    expect(made).toMatchObject({ code: 0, stderr: '' })
    const serverKey = made.stdout.trim()
    expect(serverKey).toHaveLength(40)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const written = readFileSync(file, 'utf8')
    expect(JSON.parse(written)).toMatchObject({ publicKey: serverKey })

    const again = await runNsz(['keygen', '--out', file])
    expect(again.code).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr).toBe(`nsz: key file ${file}: already exists, and a key file is never overwritten: remove it first or choose another name\n`)
    expect(readFileSync(file, 'utf8')).toBe(written)

    // The broker with that key file; a client that knows only its public key is served over CURVE.
    const { proc, frontend } = await serve(['--min-servers', '1', '--log-level', '1', '--curve-key-file', file])
    await proc.line(/^ready workers=1$/)
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0, curve: { serverKey } })
    expect((await client.request('default', 'sealed')).map(String)).toEqual(['sealed'])
    client.close()
    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)

    chmodSync(file, 0o644)
    const refused = await runNsz(['serve', '--port', '0,0', '--min-servers', '1', '--curve-key-file', file])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toContain(`nsz: key file ${file}: holds a secret key but its group and others can read it (mode 0644): run chmod 600 ${file}\n`)
  })

  it('gives a broker and a remote pool their own keys, as security.md walks through: the pool is served, a pool with another key is not', async () => {
    const dir = tempDir('nsz-keygen-')
    const keys = async (name: string): Promise<{ file: string, publicKey: string }> => await keyPair(dir, name)
    const broker = await keys('broker')
    const pool = await keys('pool')
    const stranger = await keys('stranger')
    const pidFile = join(dir, 'broker.pid')
    const server = await serve(['--min-servers', '0', '--min-spare-servers', '0', '--log-level', '2', '--pid-file', pidFile,
      '--curve', 'backend', '--curve-key-file', broker.file, '--worker-keys', pool.publicKey])
    await server.proc.line(/^ready workers=0$/)
    const worker = (own: string): ReturnType<typeof nsz> => nsz(['worker', '--connect', server.backend, '--min-servers', '1', '--min-spare-servers', '0', '--log-level', '1',
      '--curve-server-key', broker.publicKey, '--curve-key-file', own])

    const joined = worker(pool.file)
    await statusUntil(pidFile, (s) => s.remoteWorkers === 1, 'the pool\'s worker')
    const client = pipelinedClient({ endpoint: connectable(server.frontend), retries: 0 })
    expect((await client.request('default', 'remote')).map(String)).toEqual(['remote'])

    const refused = worker(stranger.file)
    const refusal = (line: string): boolean => line.includes('zapRefused:workerKey') && line.includes(stranger.publicKey)
    await eventually(() => server.proc.stderr.split('\n').some(refusal), 'the broker to refuse the stranger\'s key', 15_000)
    expect((await statusUntil(pidFile, (s) => s.remoteWorkers >= 1, 'the status')).remoteWorkers).toBe(1)
    client.close()
    for (const proc of [refused, joined, server.proc]) {
      proc.proc.kill('SIGTERM')
      expect(await proc.exited()).toBe(0)
      await groupGone(proc.pid)
    }
  })
})
