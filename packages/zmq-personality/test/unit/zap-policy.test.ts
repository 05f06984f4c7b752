import { describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import { AccessControl } from '@net-server/core'
import type { ZapAuthorize, ZapRequest } from '../../src/security/zap-handler.js'
import { BACKEND_DOMAIN, FRONTEND_DOMAIN, createZapPolicy } from '../../src/security/zap-policy.js'

const client = curveKeyPair().publicKey
const worker = curveKeyPair().publicKey
const stranger = curveKeyPair().publicKey

function curve (domain: string, publicKey: string, address = '127.0.0.1'): ZapRequest {
  return { domain, address, identity: '', mechanism: 'CURVE', publicKey }
}

function plain (domain: string, address = '127.0.0.1'): ZapRequest {
  return { domain, address, identity: '', mechanism: 'NULL' }
}

describe('createZapPolicy', () => {
  // Built in each test, so that a policy that fails to build fails the tests.
  const policy = (request: ZapRequest): ReturnType<ZapAuthorize> => {
    const access = new AccessControl({ allow: [], deny: ['10\\.9\\..*'], cidrAllow: ['127.0.0.0/8', '10.0.0.0/8'], cidrDeny: [] })
    return createZapPolicy({
      clientKeys: [client],
      workerKeys: [worker],
      keys: { admin: [stranger] },
      allowAddress: ({ address }) => access.allows({ address })
    })(request)
  }

  it.each([
    ['a listed client on the frontend', curve(FRONTEND_DOMAIN, client), true],
    ['a listed worker on the backend', curve(BACKEND_DOMAIN, worker), true],
    ['a worker key on the frontend', curve(FRONTEND_DOMAIN, worker), false],
    ['a client key on the backend', curve(BACKEND_DOMAIN, client), false],
    ['an unknown key on the frontend', curve(FRONTEND_DOMAIN, stranger), false],
    ['a key of a further domain', curve('admin', stranger), true],
    ['a NULL peer of a domain with an allow-list', plain(FRONTEND_DOMAIN), false],
    ['a NULL peer of a domain without one', plain('metrics'), true],
    ['any key on a domain without an allow-list', curve('metrics', stranger), true],
    ['a listed client from an address outside cidrAllow', curve(FRONTEND_DOMAIN, client, '192.168.1.5'), false],
    ['a listed client from a denied address', curve(FRONTEND_DOMAIN, client, '10.9.0.1'), false],
    ['a NULL peer from a denied address', plain('metrics', '10.9.0.1'), false],
    ['an inproc peer (no address) under allow rules', plain('metrics', ''), false]
  ])('%s: %s', (_name, request, allowed) => {
    expect(policy(request)).toBe(allowed)
  })

  it('admits every peer without options', () => {
    expect(createZapPolicy()(plain(FRONTEND_DOMAIN, '203.0.113.9'))).toBe(true)
  })

  it('uses the domain names it is given', () => {
    const renamed = createZapPolicy({ clientKeys: [client], frontendDomain: 'clients', backendDomain: 'workers', workerKeys: [worker] })
    expect(renamed(curve('clients', client))).toBe(true)
    expect(renamed(curve('clients', worker))).toBe(false)
    expect(renamed(curve('workers', worker))).toBe(true)
    expect(renamed(curve(FRONTEND_DOMAIN, worker))).toBe(true)
  })

  it.each([
    [{ clientKeys: 'abc' }, TypeError, 'options.clientKeys must be an array of Z85 keys'],
    [{ clientKeys: [client, 'abc'] }, TypeError, 'options.clientKeys[1] must be a 40-character Z85 key'],
    [{ workerKeys: [42] }, TypeError, 'options.workerKeys[0] must be a 40-character Z85 key'],
    [{ keys: { admin: [null] } }, TypeError, 'options.keys.admin[0] must be a 40-character Z85 key'],
    [null, TypeError, 'options must be an object'],
    ['clients', TypeError, 'options must be an object'],
    [{ keys: 'admin' }, TypeError, 'options.keys must be an object'],
    [{ keys: null }, TypeError, 'options.keys must be an object'],
    [{ allowAddress: true }, TypeError, 'options.allowAddress must be a function'],
    [{ frontendDomain: '' }, TypeError, 'options.frontendDomain must be a non-empty string'],
    [{ backendDomain: 7 }, TypeError, 'options.backendDomain must be a non-empty string']
  ])('refuses %j', (options, Type, message) => {
    expect(() => createZapPolicy(options as never)).toThrow(new Type(message))
  })
})
