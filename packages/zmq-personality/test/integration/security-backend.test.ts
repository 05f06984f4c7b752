/**
 * The backend admits the server's own children and, of the others, only listed
 * CURVE keys or everyone with --insecure-backend; no child gets a key or a tag
 * through its environment. Real broker and pool processes, rogue workers over
 * loopback (from 127.0.0.2) and over the children's private ipc:// endpoint.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Command } from '@net-server/client'
import { rejection, tempDir, text, type TestProcess } from '@net-server/test-support'
import { connectable } from '../../src/endpoints.js'
import { generateCurveKeyPair, isCurveKey } from '../../src/security/curve.js'
import { RawWorker, from127002 } from '../support/broker.js'
import { pipelinedClient } from '../support/clients.js'
import { SMALL, decision, start, stop } from '../support/security.js'

/** A raw MDP worker whose connection to the broker's backend leaves from 127.0.0.2. */
function rogueFrom127002 (backend: string): RawWorker {
  const rogue = new RawWorker(from127002(backend))
  // Once ZAP refuses the connection, libzmq may drop the rogue's pipe: a send then fails
  // at once (EAGAIN) instead of waiting forever for a pipe that never comes.
  rogue.socket.sendTimeout = 0
  onTestFinished(() => { rogue.socket.close() })
  return rogue
}

/** Sends forged replies for the job ids a rogue would guess, until its connection is refused (sends fail with EAGAIN). */
async function forgeReplies (rogue: RawWorker, count: number): Promise<void> {
  for (let id = 0; id < count; id++) {
    try {
      await rogue.reply(Buffer.from(String(id)), ['FORGED'], 200)
    } catch (err) {
      if ((err as { code?: string }).code === 'EAGAIN') return
      throw err
    }
  }
}

/** Pids of the children the fixture reported ready. */
function childPids (proc: TestProcess): number[] {
  return proc.lines.filter((l) => l.includes('"event":"childReady"')).map((l) => (JSON.parse(l) as { pid: number }).pid)
}

/** The first match of `pattern` in the process's log (its stderr), once there. */
async function logLine (proc: TestProcess, pattern: RegExp): Promise<RegExpExecArray> {
  await proc.until(() => pattern.test(proc.stderr), `a log line matching ${String(pattern)}`, 10_000)
  return pattern.exec(proc.stderr)!
}

/** True when `socket` holds no message at all (a non-blocking receive finds nothing). */
async function holdsNothing (rogue: RawWorker): Promise<boolean> {
  rogue.socket.receiveTimeout = 0
  return (await rejection(rogue.socket.receive())).code === 'EAGAIN'
}

describe('the backend by default', () => {
  it('gives a rogue worker from 127.0.0.2 no job and lets none of its forged replies through', async () => {
    const { proc, frontend, backend } = await start('broker', SMALL)
    await proc.line(/"event":"childReady"/)
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0 })
    expect((await client.request('default', 'warm')).map(String)).toEqual(['broker:WARM'])

    const rogue = rogueFrom127002(backend)
    const refused = decision(proc, { domain: 'backend', address: '127.0.0.2', allowed: false })
    await rogue.ready('default', { pid: childPids(proc)[0]!, services: [] })
    await forgeReplies(rogue, 50)
    await refused

    const replies = await Promise.all(Array.from({ length: 40 }, async (_, i) => (await client.request('default', `job ${i}`)).map(String)))
    expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => [`broker:JOB ${i}`]))
    expect(await holdsNothing(rogue)).toBe(true)
    // The broker says why.
    await logLine(proc, /worker refused on the backend: the backend admits remote workers only with workerKeys/)
    client.close()
    await stop(proc)
  })

  it('refuses a process of the same user on the children\'s private ipc endpoint: only the children themselves get in', async () => {
    const { proc, frontend } = await start('broker', [...SMALL, '--log-level', '3'])
    const [, local] = await logLine(proc, /local workers join the backend on (ipc:\/\/[^"\s]+)/)
    await proc.line(/"event":"childReady"/)
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0 })
    expect((await client.request('default', 'warm')).map(String)).toEqual(['broker:WARM'])

    const rogue = new RawWorker(local!)
    onTestFinished(() => { rogue.socket.close() })
    // libzmq names an ipc peer's process: this test's, not a child's.
    const refused = proc.line(new RegExp(`"event":"zap".*"address":"[^"]*:${process.pid}".*"allowed":false`), 10_000)
    await rogue.ready('default', { pid: childPids(proc)[0]!, services: [] })
    await refused
    const replies = await Promise.all(Array.from({ length: 20 }, async (_, i) => (await client.request('default', `job ${i}`)).map(String)))
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => [`broker:JOB ${i}`]))
    expect(await holdsNothing(rogue)).toBe(true)
    client.close()
    await stop(proc)
  })

  it('does not admit a WorkerPool over plain TCP, nor one with CURVE on a CURVE backend without workerKeys', async () => {
    const plain = await start('broker', [...SMALL, '--min-servers', '0', '--min-spare-servers', '0'])
    const refused = decision(plain.proc, { domain: 'backend', address: '127.0.0.1', mechanism: 'NULL', allowed: false })
    await start('pool', ['--connect', connectable(plain.backend), '--min-servers', '1', '--max-servers', '1', '--service', 'remote'])
    await refused
    await stop(plain.proc)

    const server = generateCurveKeyPair()
    const curve = await start('broker', [...SMALL, `--curve-secret-key=${server.secretKey}`, '--curve', 'backend'])
    const pool = generateCurveKeyPair()
    const unlisted = decision(curve.proc, { domain: 'backend', publicKey: pool.publicKey, allowed: false })
    await start('pool', ['--connect', connectable(curve.backend), `--curve-server-key=${server.publicKey}`, `--curve-secret-key=${pool.secretKey}`, '--min-servers', '1', '--max-servers', '1'])
    await unlisted
    await stop(curve.proc)
  })
})

describe('--insecure-backend', () => {
  it('registers any worker: a rogue from 127.0.0.2 gets the job and its reply reaches the client', async () => {
    const { proc, frontend, backend } = await start('broker', [...SMALL, '--min-servers', '0', '--min-spare-servers', '0', '--insecure-backend'])
    const rogue = rogueFrom127002(backend)
    const admitted = decision(proc, { domain: 'backend', address: '127.0.0.2', allowed: true })
    await rogue.ready('default')
    await admitted
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0 })
    const reply = client.request('default', 'secret payload')
    const job = await rogue.expect(Command.REQUEST)
    expect(text(job).at(-1)).toBe('secret payload')
    await rogue.reply(job[3]!, ['FORGED'])
    expect((await reply).map(String)).toEqual(['FORGED'])
    client.close()
    await stop(proc)
  })
})

describe('what the children\'s environment holds', () => {
  /** The environment of `pid`, as any process of the same user reads it. */
  const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e !== '')

  /** No CURVE key, no worker tag, no NSZ_ZMQ_ variable in any of `pids`' environments. */
  function expectNoSecrets (pids: readonly number[], secret: string): void {
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of pids) {
      const env = environ(pid)
      expect(env.filter((e) => e.startsWith('NSZ_ZMQ_')), `environment of child ${pid}`).toEqual([])
      expect(env.filter((e) => e.includes(secret) || isCurveKey(e.slice(e.indexOf('=') + 1))), `environment of child ${pid}`).toEqual([])
    }
  }

  it('holds no key and no tag, in a broker\'s children and a pool\'s, with CURVE and workerKeys', async () => {
    const dir = tempDir('nsz-keys-')
    const server = generateCurveKeyPair()
    const pool = generateCurveKeyPair()
    const serverFile = join(dir, 'server.key.json')
    const poolFile = join(dir, 'pool.key.json')
    writeFileSync(serverFile, JSON.stringify(server), { mode: 0o600 })
    writeFileSync(poolFile, JSON.stringify(pool), { mode: 0o600 })
    const broker = await start('broker', [...SMALL, '--curve-key-file', serverFile, `--worker-keys=${pool.publicKey}`])
    const remote = await start('pool', ['--connect', connectable(broker.backend), `--curve-server-key=${server.publicKey}`, '--curve-key-file', poolFile, '--min-servers', '2', '--max-servers', '2', '--service', 'remote'])
    const client = pipelinedClient({ endpoint: connectable(broker.frontend), retries: 0, curve: { serverKey: server.publicKey } })
    // Both kinds of children joined with the keys they were handed over IPC.
    expect((await client.request('default', 'local')).map(String)).toEqual(['broker:LOCAL'])
    expect((await client.request('remote', 'remote')).map(String)).toEqual(['pool:REMOTE'])
    await remote.proc.line(/"event":"childReady"/)
    expectNoSecrets(childPids(broker.proc), server.secretKey)
    expectNoSecrets(childPids(remote.proc), pool.secretKey)
    client.close()
    await stop(remote.proc)
    await stop(broker.proc)
  })
})
