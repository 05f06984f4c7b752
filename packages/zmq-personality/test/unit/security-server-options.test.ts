import { describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import type { ZapRequest } from '@net-server/zmq'
import { resolveBrokerOptions, resolveWorkerAgentOptions } from '../../src/options.js'
import { brokerSecurity, checkServerSecurity, type BrokerSecurityHost, type ServerSecurityOptions } from '../../src/security/server-security.js'
import { LocalWorkers, readWorkerBootstrap, workerCurveOptions } from '../../src/security/local-workers.js'

const NONE: ServerSecurityOptions = {
  curve: undefined, curveSecretKey: undefined, curveKeyFile: undefined, clientKeys: [], workerKeys: [], insecureBackend: false, allow: [], deny: [], cidrAllow: [], cidrDeny: []
}
const CHILD = 4242
const request = (domain: string, address: string, publicKey?: string): ZapRequest =>
  ({ domain, address, identity: '', mechanism: publicKey === undefined ? 'NULL' : 'CURVE', ...(publicKey === undefined ? {} : { publicKey }) })
const host = (allowAddress: (address: string) => boolean = () => true): BrokerSecurityHost =>
  ({ allowAddress, isOwnChild: (pid) => pid === CHILD, refused: () => {} })
const child = `localhost:1000:1000:${CHILD}`

describe('broker security from server options', () => {
  it('without security options: no CURVE and no ZAP on the frontend; the backend admits the own children only', async () => {
    const s = await brokerSecurity(NONE, host())
    expect(s).toMatchObject({ serverKey: undefined, curve: 'none', childCurve: undefined })
    expect(s.frontendSocketOptions).toEqual({})
    expect(s.backendSocketOptions).toEqual({ zapDomain: 'backend' })
    expect(await s.authorize(request('backend', child))).toBe(true)
    expect(await s.authorize(request('backend', 'localhost:1000:1000:4243'))).toBe(false)
    expect(await s.authorize(request('backend', '127.0.0.2'))).toBe(false)
  })

  it('admits any worker with insecureBackend', async () => {
    const s = await brokerSecurity({ ...NONE, insecureBackend: true }, host())
    expect(await s.authorize(request('backend', '127.0.0.2'))).toBe(true)
    expect(await s.authorize(request('backend', 'localhost:1000:1000:4243'))).toBe(true)
  })

  it('guards the frontend with ZAP for access rules, applying them to clients only', async () => {
    const s = await brokerSecurity({ ...NONE, cidrDeny: ['127.0.0.0/8'] }, host((address) => !address.startsWith('127.')))
    expect(s.frontendSocketOptions).toEqual({ zapDomain: 'frontend' })
    expect(s.backendSocketOptions).toEqual({ zapDomain: 'backend' })
    expect(await s.authorize(request('frontend', '127.0.0.1'))).toBe(false)
    expect(await s.authorize(request('frontend', '10.0.0.1'))).toBe(true)
    expect(await s.authorize(request('backend', child))).toBe(true)
  })

  it('hands the children a pool key pair; remote workers need a listed key', async () => {
    const server = curveKeyPair()
    const listed = curveKeyPair()
    const s = await brokerSecurity({ ...NONE, curveSecretKey: server.secretKey, workerKeys: [listed.publicKey] }, host())
    expect(s.serverKey).toBe(server.publicKey)
    expect(s.backendSocketOptions).toMatchObject({ curveServer: true, curveSecretKey: server.secretKey, zapDomain: 'backend' })
    const pool = s.childCurve!
    expect(pool.serverKey).toBe(server.publicKey)
    expect(await s.authorize(request('backend', child, pool.publicKey))).toBe(true)
    expect(await s.authorize(request('backend', '127.0.0.1', pool.publicKey))).toBe(false)
    expect(await s.authorize(request('backend', '127.0.0.1', listed.publicKey))).toBe(true)
    expect(await s.authorize(request('backend', '127.0.0.1', curveKeyPair().publicKey))).toBe(false)
  })

  it('refuses remote workers on a CURVE backend without workerKeys: knowing the public server key is not enough', async () => {
    const server = curveKeyPair()
    const s = await brokerSecurity({ ...NONE, curveSecretKey: server.secretKey }, host())
    expect(await s.authorize(request('backend', '127.0.0.1', curveKeyPair().publicKey))).toBe(false)
  })

  it('gives the frontend alone CURVE with curve: frontend, and no keys to the children', async () => {
    const server = curveKeyPair()
    const s = await brokerSecurity({ ...NONE, curveSecretKey: server.secretKey, curve: 'frontend' }, host())
    expect(s.frontendSocketOptions).toMatchObject({ curveServer: true })
    expect(s.backendSocketOptions).toEqual({ zapDomain: 'backend' })
    expect(s.childCurve).toBeUndefined()
  })

  it('refuses insecureBackend together with workerKeys', () => {
    const server = curveKeyPair()
    expect(() => { checkServerSecurity({ ...NONE, curveSecretKey: server.secretKey, workerKeys: [curveKeyPair().publicKey], insecureBackend: true }) })
      .toThrow('options.insecureBackend and options.workerKeys exclude each other')
  })
})

describe('worker bootstrap data', () => {
  it('reads the endpoint, the tag and the CURVE keys, and builds the DEALER options', () => {
    const server = curveKeyPair()
    const pool = curveKeyPair()
    const boot = readWorkerBootstrap({ endpoint: 'ipc:///tmp/x/backend', workerTag: 'ab.', curve: { serverKey: server.publicKey, ...pool } })
    expect(boot).toEqual({ endpoint: 'ipc:///tmp/x/backend', workerTag: 'ab.', curve: { serverKey: server.publicKey, ...pool } })
    expect(workerCurveOptions(boot.curve)).toEqual({ curveServerKey: server.publicKey, curvePublicKey: pool.publicKey, curveSecretKey: pool.secretKey })
  })

  it('leaves out what is missing or malformed', () => {
    expect(readWorkerBootstrap(null)).toEqual({})
    expect(readWorkerBootstrap({ endpoint: '', workerTag: 5, curve: { serverKey: 'short' } })).toEqual({})
    expect(workerCurveOptions(undefined)).toEqual({})
  })
})

describe('socket option seams', () => {
  it('accepts an object and refuses anything else, naming the option', () => {
    expect(resolveBrokerOptions({ frontendSocketOptions: { zapDomain: 'frontend' } }).frontendSocketOptions).toEqual({ zapDomain: 'frontend' })
    expect(() => resolveBrokerOptions({ backendSocketOptions: 5 as never })).toThrow('options.backendSocketOptions must be an object of zeromq.js socket options')
    expect(() => resolveWorkerAgentOptions({ endpoint: 'tcp://127.0.0.1:1', socketOptions: [] as never })).toThrow('options.socketOptions must be an object')
  })
})

describe('LocalWorkers.peerName', () => {
  it('writes a child\'s routing id without its tag, and leaves other peers alone', () => {
    const local = new LocalWorkers()
    const tag = local.issue(4242)
    const id = Buffer.concat([Buffer.from(tag), Buffer.from([0xab, 0xcd])]).toString('hex')
    expect(local.peerName(id)).toBe('child 4242 abcd')
    expect(local.peerName(id)).not.toContain(Buffer.from(tag).toString('hex'))
    expect(local.peerName('00a1b2')).toBe('00a1b2')
    local.forget(4242)
    expect(local.peerName(id)).toBe(id)
  })
})
