import { describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import type { ZapRequest } from '@net-server/zmq'
import { resolveBrokerOptions, resolveWorkerAgentOptions } from '../../src/options.js'
import {
  CURVE_PUBLIC_KEY_ENV, CURVE_SECRET_KEY_ENV, CURVE_SERVER_KEY_ENV, brokerSecurity, curveChildEnv, takeWorkerCurve,
  type ServerSecurityOptions
} from '../../src/security/server-security.js'

const NONE: ServerSecurityOptions = {
  curve: undefined, curveSecretKey: undefined, curveKeyFile: undefined, clientKeys: [], workerKeys: [], allow: [], deny: [], cidrAllow: [], cidrDeny: []
}
const request = (domain: string, address: string, publicKey?: string): ZapRequest =>
  ({ domain, address, identity: '', mechanism: publicKey === undefined ? 'NULL' : 'CURVE', ...(publicKey === undefined ? {} : { publicKey }) })

describe('broker security from server options', () => {
  it('leaves ZAP and CURVE off without security options: no handler, no zapDomain', async () => {
    const s = await brokerSecurity(NONE, () => true)
    expect(s).toMatchObject({ authorize: undefined, serverKey: undefined, curve: 'none', childEnv: {} })
    expect(s.frontendSocketOptions).toEqual({})
    expect(s.backendSocketOptions).toEqual({})
  })

  it('guards both sockets with ZAP for access rules, applying them to clients only', async () => {
    const s = await brokerSecurity({ ...NONE, cidrDeny: ['127.0.0.0/8'] }, (address) => !address.startsWith('127.'))
    expect(s.frontendSocketOptions).toEqual({ zapDomain: 'frontend' })
    expect(s.backendSocketOptions).toEqual({ zapDomain: 'backend' })
    expect(await s.authorize!(request('frontend', '127.0.0.1'))).toBe(false)
    expect(await s.authorize!(request('frontend', '10.0.0.1'))).toBe(true)
    expect(await s.authorize!(request('backend', '127.0.0.1'))).toBe(true)
  })

  it('hands the children a pool key pair that workerKeys always admits', async () => {
    const server = curveKeyPair()
    const listed = curveKeyPair()
    const s = await brokerSecurity({ ...NONE, curveSecretKey: server.secretKey, workerKeys: [listed.publicKey] }, () => true)
    expect(s.serverKey).toBe(server.publicKey)
    expect(s.backendSocketOptions).toMatchObject({ curveServer: true, curveSecretKey: server.secretKey, zapDomain: 'backend' })
    const pool = s.childEnv[CURVE_PUBLIC_KEY_ENV]!
    expect(s.childEnv[CURVE_SERVER_KEY_ENV]).toBe(server.publicKey)
    expect(await s.authorize!(request('backend', '127.0.0.1', pool))).toBe(true)
    expect(await s.authorize!(request('backend', '127.0.0.1', listed.publicKey))).toBe(true)
    expect(await s.authorize!(request('backend', '127.0.0.1', curveKeyPair().publicKey))).toBe(false)
  })

  it('gives the frontend alone CURVE with curve: frontend, and no keys to the children', async () => {
    const server = curveKeyPair()
    const s = await brokerSecurity({ ...NONE, curveSecretKey: server.secretKey, curve: 'frontend' }, () => true)
    expect(s.frontendSocketOptions).toMatchObject({ curveServer: true })
    expect(s.backendSocketOptions).toEqual({ zapDomain: 'backend' })
    expect(s.childEnv).toEqual({})
  })
})

describe('worker CURVE from the environment', () => {
  it('builds the DEALER options and removes the keys from the environment', () => {
    const server = curveKeyPair()
    const pool = curveKeyPair()
    const env: NodeJS.ProcessEnv = { ...curveChildEnv(server.publicKey, pool), OTHER: 'kept' }
    expect(takeWorkerCurve(env)).toEqual({ curveServerKey: server.publicKey, curvePublicKey: pool.publicKey, curveSecretKey: pool.secretKey })
    expect(env).toEqual({ OTHER: 'kept' })
    expect(env[CURVE_SECRET_KEY_ENV]).toBeUndefined()
    expect(takeWorkerCurve(env)).toEqual({})
  })
})

describe('socket option seams', () => {
  it('accepts an object and refuses anything else, naming the option', () => {
    expect(resolveBrokerOptions({ frontendSocketOptions: { zapDomain: 'frontend' } }).frontendSocketOptions).toEqual({ zapDomain: 'frontend' })
    expect(() => resolveBrokerOptions({ backendSocketOptions: 5 as never })).toThrow('options.backendSocketOptions must be an object of zeromq.js socket options')
    expect(() => resolveWorkerAgentOptions({ endpoint: 'tcp://127.0.0.1:1', socketOptions: [] as never })).toThrow('options.socketOptions must be an object')
  })
})
