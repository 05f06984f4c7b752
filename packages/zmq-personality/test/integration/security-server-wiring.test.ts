/**
 * CURVE and ZAP wired into a running server: a ZmqServer fixture process (broker in
 * the parent, workers in its children) and WorkerPool processes, with real clients
 * over loopback.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import { ClientErrorCode } from '@net-server/client'
import { WorkerPool, ZmqServer, type ZmqServerOptions, type WorkerPoolOptions } from '@net-server/zmq'
import { TSX, rejection, startProcess, tempDir, within } from '@net-server/test-support'
import { connectable } from '../../src/endpoints.js'
import { pipelinedClient } from '../support/clients.js'
import { fixture } from '../support/fixture.js'
import { SMALL, decision, start, stop } from '../support/security.js'

const FIXTURE = fixture('security-server.ts')

describe('a ZmqServer with CURVE on both sockets', () => {
  it('serves clients with the server key and a listed key through CURVE workers; refuses the others without a reply', async () => {
    const server = curveKeyPair()
    const alice = curveKeyPair()
    const mallory = curveKeyPair()
    const { proc, frontend } = await start('broker', [...SMALL, `--curve-secret-key=${server.secretKey}`, `--client-keys=${alice.publicKey}`])
    const endpoint = connectable(frontend)

    // The local children joined the backend over CURVE with the pool key the parent handed down.
    await decision(proc, { domain: 'backend', mechanism: 'CURVE', allowed: true })
    const good = pipelinedClient({ endpoint, retries: 0, curve: { serverKey: server.publicKey, ...alice } })
    expect((await good.request('default', 'hello')).map(String)).toEqual(['broker:HELLO'])

    // A CURVE client whose key is not on the list: ZAP refuses it, it only sees its own timeout.
    const unlisted = pipelinedClient({ endpoint, retries: 0, timeout: 500, curve: { serverKey: server.publicKey, ...mallory } })
    const refusedKey = decision(proc, { domain: 'frontend', publicKey: mallory.publicKey, allowed: false })
    expect((await rejection(unlisted.request('default', 'let me in'))).code).toBe(ClientErrorCode.TIMEOUT)
    await refusedKey

    // A plain client cannot even complete the handshake with a CURVE socket.
    const plain = pipelinedClient({ endpoint, retries: 0, timeout: 500 })
    expect((await rejection(plain.request('default', 'plain'))).code).toBe(ClientErrorCode.TIMEOUT)

    // A client with a wrong server key fails its handshake too.
    const wrongServer = pipelinedClient({ endpoint, retries: 0, timeout: 500, curve: { serverKey: curveKeyPair().publicKey, ...alice } })
    expect((await rejection(wrongServer.request('default', 'wrong'))).code).toBe(ClientErrorCode.TIMEOUT)

    // The server kept serving the admitted client meanwhile.
    expect((await good.request('default', 'still there')).map(String)).toEqual(['broker:STILL THERE'])
    good.close()
    await stop(proc)
  })

  it('admits any client that has the server key when clientKeys is empty; plain workers on a plain backend', async () => {
    const server = curveKeyPair()
    const { proc, frontend } = await start('broker', [...SMALL, `--curve-secret-key=${server.secretKey}`, '--curve', 'frontend'])
    await decision(proc, { domain: 'backend', mechanism: 'NULL', allowed: true })
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0, curve: { serverKey: server.publicKey } })
    expect((await client.request('default', 'anyone')).map(String)).toEqual(['broker:ANYONE'])
    const plain = pipelinedClient({ endpoint: connectable(frontend), retries: 0, timeout: 500 })
    expect((await rejection(plain.request('default', 'plain'))).code).toBe(ClientErrorCode.TIMEOUT)
    client.close()
    await stop(proc)
  })
})

describe('access rules through ZAP', () => {
  it('refuses a plain client that cidrDeny covers, while the local workers still join the backend', async () => {
    const { proc, frontend } = await start('broker', [...SMALL, '--cidr-deny', '127.0.0.0/8'])
    await decision(proc, { domain: 'backend', mechanism: 'NULL', allowed: true })
    const refused = decision(proc, { domain: 'frontend', address: '127.0.0.1', allowed: false })
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0, timeout: 500 })
    expect((await rejection(client.request('default', 'hello'))).code).toBe(ClientErrorCode.TIMEOUT)
    await refused
    await stop(proc)
  })

  it('admits the addresses an allow rule matches and refuses the others', async () => {
    const denied = await start('broker', [...SMALL, '--allow', '10\\.1\\.2\\.3'])
    const refused = decision(denied.proc, { domain: 'frontend', address: '127.0.0.1', allowed: false })
    const client = pipelinedClient({ endpoint: connectable(denied.frontend), retries: 0, timeout: 500 })
    expect((await rejection(client.request('default', 'hello'))).code).toBe(ClientErrorCode.TIMEOUT)
    await refused

    const admitted = await start('broker', [...SMALL, '--allow', '127\\.0\\.0\\.1'])
    const ok = pipelinedClient({ endpoint: connectable(admitted.frontend), retries: 0 })
    expect((await ok.request('default', 'hello')).map(String)).toEqual(['broker:HELLO'])
    ok.close()
    await stop(admitted.proc)
  })
})

describe('a WorkerPool on a CURVE backend', () => {
  it('joins and serves with a listed key; a pool with an unlisted key is refused and serves nothing', async () => {
    const server = curveKeyPair()
    const pool = curveKeyPair()
    const stranger = curveKeyPair()
    // A long service grace: a request for a service nobody serves waits, whatever the machine's pace.
    const broker = await start('broker', [...SMALL, `--curve-secret-key=${server.secretKey}`, `--worker-keys=${pool.publicKey}`, '--service-grace', '60'])
    const backend = connectable(broker.backend)
    const poolArgs = ['--connect', backend, `--curve-server-key=${server.publicKey}`, '--min-servers', '1', '--max-servers', '1']

    const joined = decision(broker.proc, { domain: 'backend', publicKey: pool.publicKey, allowed: true })
    await start('pool', [...poolArgs, `--curve-secret-key=${pool.secretKey}`, '--service', 'remote'])
    await joined
    const client = pipelinedClient({ endpoint: connectable(broker.frontend), retries: 0, curve: { serverKey: server.publicKey } })
    expect((await client.request('remote', 'far away')).map(String)).toEqual(['pool:FAR AWAY'])

    const refused = decision(broker.proc, { domain: 'backend', publicKey: stranger.publicKey, allowed: false })
    await start('pool', [...poolArgs, `--curve-secret-key=${stranger.secretKey}`, '--service', 'elsewhere'])
    await refused
    // Its service never gets a worker: the request waits in the queue until the client gives up.
    expect((await rejection(client.request('elsewhere', 'anyone?', { timeout: 500 }))).code).toBe(ClientErrorCode.TIMEOUT)
    expect((await client.request('remote', 'again')).map(String)).toEqual(['pool:AGAIN'])
    client.close()
    await stop(broker.proc)
  })
})

describe('security options', () => {
  const server = curveKeyPair()
  const other = curveKeyPair()
  const quiet = { argv: false, handleSignals: false, logLevel: 0 } as const

  it.each<[string, Partial<ZmqServerOptions>, ErrorConstructor, string]>([
    ['a short secret key', { curveSecretKey: 'short' }, TypeError, 'options.curveSecretKey must be a 40-character Z85 key'],
    ['curve without a key', { curve: 'both' }, RangeError, "options.curve 'both' needs options.curveSecretKey or options.curveKeyFile"],
    ['an unknown curve value', { curve: 'sideways' as never }, RangeError, "options.curve must be one of frontend, backend, both, none, got 'sideways'"],
    ['a key and a key file', { curveSecretKey: server.secretKey, curveKeyFile: '/k.json' }, RangeError, 'options.curveSecretKey and options.curveKeyFile exclude each other: give one'],
    ['a malformed client key', { curveSecretKey: server.secretKey, clientKeys: ['nope'] }, TypeError, "options.clientKeys must hold 40-character Z85 public keys, got 'nope'"],
    ['clientKeys without CURVE', { clientKeys: [other.publicKey] }, RangeError, "options.clientKeys needs CURVE on the frontend (options.curve 'frontend' or 'both', got 'none')"],
    ['workerKeys with a plain backend', { curveSecretKey: server.secretKey, curve: 'frontend', workerKeys: [other.publicKey] }, RangeError, "options.workerKeys needs CURVE on the backend (options.curve 'backend' or 'both', got 'frontend')"]
  ])('ZmqServer refuses %s', async (_what, options, type, message) => {
    const err = await rejection(new ZmqServer({ ...quiet, ...options }).run())
    expect(err).toBeInstanceOf(type)
    expect(err.message).toBe(message)
    expect(err.message).not.toContain(server.secretKey)
  })

  it.each<[string, Partial<WorkerPoolOptions>, ErrorConstructor, string]>([
    ['a malformed server key', { curveServerKey: 'x'.repeat(39) }, TypeError, `options.curveServerKey must be a 40-character Z85 key, got '${'x'.repeat(39)}'`],
    ['own keys without the server key', { curveSecretKey: server.secretKey }, RangeError, "options.curveSecretKey needs options.curveServerKey, the broker's public key"],
    ['clientKeys', { clientKeys: [other.publicKey] }, RangeError, 'options.clientKeys applies to a broker (ZmqServer), not to a WorkerPool'],
    ['curve', { curve: 'both', curveServerKey: server.publicKey }, RangeError, 'options.curve applies to a broker (ZmqServer); a WorkerPool uses CURVE when options.curveServerKey is set'],
    ['a host label with a /, which would end it early in the routing id', { hostLabel: 'rack/7' }, TypeError, "options.hostLabel must be 1 to 64 printable ASCII characters without spaces or '/', got 'rack/7'"],
    ['an empty host label', { hostLabel: '' }, TypeError, "options.hostLabel must be 1 to 64 printable ASCII characters without spaces or '/', got ''"]
  ])('WorkerPool refuses %s', async (_what, options, type, message) => {
    const err = await rejection(new WorkerPool({ ...quiet, connect: 'tcp://127.0.0.1:1', ...options }).run())
    expect(err).toBeInstanceOf(type)
    expect(err.message).toBe(message)
  })

  it('refuses key files that cannot serve as the secret key before anything binds', async () => {
    const dir = tempDir('nsz-keys-')
    const certificate = join(dir, 'server.pub.json')
    writeFileSync(certificate, JSON.stringify({ publicKey: server.publicKey }))
    for (const curveKeyFile of [join(dir, 'missing.json'), certificate]) {
      const err = await rejection(new ZmqServer({ ...quiet, port: [0, 0], curveKeyFile }).run())
      expect(err.code).toBe('NSZ_ERR_KEY_FILE')
      expect(err.message).toContain(curveKeyFile)
    }
  })

  it('reads the key from a key file and the lists from flags in a real process', async () => {
    const dir = tempDir('nsz-keys-')
    const file = join(dir, 'server.key.json')
    writeFileSync(file, JSON.stringify(server), { mode: 0o600 })
    const { proc, frontend } = await start('broker', [...SMALL, '--curve-key-file', file, '--client-keys', `${other.publicKey},${curveKeyPair().publicKey}`])
    const client = pipelinedClient({ endpoint: connectable(frontend), retries: 0, curve: { serverKey: server.publicKey, ...other } })
    expect((await client.request('default', 'from a file')).map(String)).toEqual(['broker:FROM A FILE'])
    client.close()
    await stop(proc)

    const bad = startProcess(process.execPath, [...TSX, FIXTURE, 'broker', ...SMALL, '--worker-keys', 'not-a-key'], { group: true })
    const { code } = await within(bad.closed, 20_000, 'the fixture to fail')
    expect(code).not.toBe(0)
    expect(bad.stderr).toContain("options.workerKeys must hold 40-character Z85 public keys, got 'not-a-key'")
  })
})
