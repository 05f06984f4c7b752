import { describe, expect, it } from 'vitest'
import { curveKeyPair } from 'zeromq'
import type { ZapRequest } from '@net-server/zmq'
import { createBackendPolicy, ipcPeer } from '../../src/security/backend-policy.js'

const request = (address: string, publicKey?: string): ZapRequest =>
  ({ domain: 'backend', address, identity: '', mechanism: publicKey === undefined ? 'NULL' : 'CURVE', ...(publicKey === undefined ? {} : { publicKey }) })

describe('ipcPeer', () => {
  it('reads the credentials libzmq gives an ipc peer', () => {
    expect(ipcPeer('localhost:1000:100:4242')).toEqual({ uid: 1000, gid: 100, pid: 4242 })
    expect(ipcPeer(':0:0:1')).toEqual({ uid: 0, gid: 0, pid: 1 })
  })

  it('never takes an IP address for one', () => {
    for (const address of ['', '127.0.0.1', '::1', '1:2::3', '1::2:3', 'fe80::1:2:3', '2001:db8:0:0:0:12:34:5678', '::ffff:127.0.0.1', 'localhost:1:1:7:9', 'localhost:1:1:7x']) {
      expect(ipcPeer(address)).toBeUndefined()
    }
  })
})

describe('createBackendPolicy', () => {
  const listed = curveKeyPair().publicKey
  const refusals: string[] = []
  const policy = (o: { workerKeys?: string[], insecureBackend?: boolean }): (r: ZapRequest) => boolean => createBackendPolicy({
    workerKeys: o.workerKeys ?? [],
    insecureBackend: o.insecureBackend ?? false,
    isOwnChild: (pid) => pid === 7,
    refused: (_request, reason, why) => { refusals.push(`${reason}: ${why}`) }
  })

  it('admits the own children and ipc peers without credentials; refuses everyone else by default, saying why', () => {
    const p = policy({})
    expect(p(request('localhost:1:1:7'))).toBe(true)
    expect(p(request(''))).toBe(true)
    expect(p(request('localhost:1:1:8'))).toBe(false)
    expect(refusals.at(-1)).toMatch(/^notChild: pid 8 \(uid 1\) is not one of the server's children, and the backend admits remote workers only/)
    expect(p(request('127.0.0.2'))).toBe(false)
    expect(refusals.at(-1)).toMatch(/^workerKey: the backend admits remote workers only/)
    expect(p(request('127.0.0.2', listed))).toBe(false)
    expect(refusals.at(-1)).toMatch(/workerKeys \(--worker-keys\) or insecureBackend \(--insecure-backend\)/)
  })

  it('admits remote CURVE workers whose key is listed', () => {
    const p = policy({ workerKeys: [listed] })
    expect(p(request('10.0.0.5', listed))).toBe(true)
    expect(p(request('10.0.0.5', curveKeyPair().publicKey))).toBe(false)
    expect(refusals.at(-1)).toMatch(/is not in workerKeys/)
    expect(p(request('10.0.0.5'))).toBe(false)
    expect(refusals.at(-1)).toMatch(/a NULL worker/)
  })

  it('trusts a public key only when the worker proved it with CURVE', () => {
    const p = policy({ workerKeys: [listed] })
    expect(p({ ...request('10.0.0.5'), publicKey: listed })).toBe(false)
    expect(refusals.at(-1)).toBe('workerKey: a NULL worker; workerKeys admit CURVE workers only')
  })

  it('refuses without telling anyone when no one asked to be told', () => {
    const p = createBackendPolicy({ workerKeys: [], insecureBackend: false, isOwnChild: () => false })
    expect(p(request('10.0.0.5'))).toBe(false)
    expect(p(request('localhost:1:1:8'))).toBe(false)
  })

  it('admits every worker with insecureBackend', () => {
    const p = policy({ insecureBackend: true })
    expect(p(request('10.0.0.5'))).toBe(true)
    expect(p(request('localhost:1:1:8'))).toBe(true)
  })
})
