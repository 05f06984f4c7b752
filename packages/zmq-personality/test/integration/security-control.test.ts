/**
 * The status endpoint: over TCP it obeys the frontend's access rules and keys; the
 * default ipc:// socket is the server user's alone; a flood of status requests does
 * not keep jobs from flowing. Real broker processes over loopback.
 */
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Dealer, Request } from 'zeromq'
import { deferred, freePorts, rejection, tempDir, track, within } from '@net-server/test-support'
import { connectable } from '../../src/endpoints.js'
import { generateCurveKeyPair } from '../../src/security/curve.js'
import { runNsz } from '../support/cli.js'
import { pipelinedClient } from '../support/clients.js'
import { SMALL, decision, start, stop } from '../support/security.js'

/** One `status` round trip on a REQ socket with `options` (CURVE), or the error past `timeout` ms. */
async function askStatus (endpoint: string, options: Record<string, unknown> = {}, timeout = 3000): Promise<{ pid?: number }> {
  const socket = track(new Request({ linger: 0, receiveTimeout: timeout, sendTimeout: timeout, ...options }))
  socket.connect(endpoint)
  await socket.send('status')
  const [reply] = await socket.receive()
  return JSON.parse(reply!.toString()) as { pid?: number }
}

describe('a TCP control endpoint', () => {
  it('refuses, through ZAP, a peer that the frontend\'s address rules refuse', async () => {
    const [port] = await freePorts()
    const control = `tcp://127.0.0.1:${port}`
    const { proc } = await start('broker', [...SMALL, '--cidr-deny', '127.0.0.0/8', '--control-endpoint', control])
    const refused = decision(proc, { domain: 'frontend', address: '127.0.0.1', allowed: false })
    expect((await rejection(askStatus(control, {}, 500))).code).toBe('EAGAIN')
    await refused
    await stop(proc)
  })

  it('asks for CURVE and a listed client key when the frontend does', async () => {
    const [port] = await freePorts()
    const control = `tcp://127.0.0.1:${port}`
    const server = generateCurveKeyPair()
    const alice = generateCurveKeyPair()
    const { proc } = await start('broker', [...SMALL, `--curve-secret-key=${server.secretKey}`, `--client-keys=${alice.publicKey}`, '--control-endpoint', control])
    expect((await rejection(askStatus(control, {}, 500))).code).toBe('EAGAIN')
    const stranger = generateCurveKeyPair()
    const unlisted = { curveServerKey: server.publicKey, curvePublicKey: stranger.publicKey, curveSecretKey: stranger.secretKey }
    expect((await rejection(askStatus(control, unlisted, 500))).code).toBe('EAGAIN')
    const listed = { curveServerKey: server.publicKey, curvePublicKey: alice.publicKey, curveSecretKey: alice.secretKey }
    expect((await askStatus(control, listed)).pid).toBe(proc.pid)

    // nsz status takes the same keys: the server's public key and a key file of its own.
    const dir = tempDir()
    const aliceFile = join(dir, 'alice.json')
    writeFileSync(aliceFile, JSON.stringify(alice), { mode: 0o600 })
    const asked = await runNsz(['status', '--control', control, '--json', '--timeout', '5', '--curve-server-key', server.publicKey, '--curve-key-file', aliceFile])
    expect(asked.stderr).toBe('')
    expect(asked.code).toBe(0)
    expect((JSON.parse(asked.stdout) as { pid: number }).pid).toBe(proc.pid)
    const bare = await runNsz(['status', '--control', control, '--timeout', '0.5'])
    expect(bare.code).toBe(1)
    expect(bare.stderr).toMatch(/no answer on tcp:\/\/127\.0\.0\.1:\d+ within 0\.5 s/)
    await stop(proc)
  })

  it('keeps jobs flowing while a peer floods it with status requests', async () => {
    const [port] = await freePorts()
    const control = `tcp://127.0.0.1:${port}`
    const { proc, frontend } = await start('broker', [...SMALL, '--control-endpoint', control])
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0 })
    expect((await client.request('default', 'warm')).map(String)).toEqual(['broker:WARM'])

    // 3000 requests on one DEALER: far more than the endpoint answers while the jobs run.
    const FLOOD = 3000
    const flood = new Dealer({ linger: 0 })
    onTestFinished(() => { flood.close() })
    flood.connect(control)
    let answered = 0
    const first = deferred()
    // Both loops end in an error when the test closes the socket under them: only that one is expected.
    const closedUnder = (err: unknown): void => { if (!flood.closed) throw err }
    const reading = (async () => {
      while (answered < FLOOD) {
        await flood.receive()
        answered++
        first.resolve()
      }
    })().catch(closedUnder)
    const sending = (async () => {
      for (let i = 0; i < FLOOD; i++) await flood.send(['', 'status'])
    })().catch(closedUnder)
    await within(first.promise, 10_000, 'the first status answer')

    const jobs = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await client.request('default', `job ${i}`)).map(String)))
    expect(jobs).toEqual(Array.from({ length: 200 }, (_, i) => [`broker:JOB ${i}`]))
    // The answers are paced: the jobs went through while most of the flood still waited.
    expect(answered).toBeLessThan(FLOOD)
    flood.close()
    await Promise.all([reading, sending])
    client.close()
    await stop(proc)
  })
})

describe('the default ipc control socket', () => {
  it('is a socket file only the server\'s user may open', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc } = await start('broker', [...SMALL, '--pid-file', pidFile])
    expect(statSync(`${pidFile}.sock`).mode & 0o777).toBe(0o600)
    expect((await askStatus(`ipc://${pidFile}.sock`)).pid).toBe(proc.pid)
    await stop(proc)
  })
})
