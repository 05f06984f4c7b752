/**
 * A ready-made ZAP decision: allow-lists of public keys per domain, combined with a
 * rule on the peer's address (Net::Server's allow/deny/cidrAllow/cidrDeny through
 * core's `AccessControl`).
 */

import { checkCurveKey } from './curve.js'
import type { ZapAuthorize, ZapRequest } from './zap-handler.js'

/** The `zapDomain` of the broker's frontend, where clients connect. */
export const FRONTEND_DOMAIN = 'frontend'
/** The `zapDomain` of the broker's backend, where workers connect. */
export const BACKEND_DOMAIN = 'backend'

/** Options of {@link createZapPolicy}. */
export interface ZapPolicyOptions {
  /** Public keys (Z85) of the clients admitted on the frontend domain; absent: any key. */
  readonly clientKeys?: readonly string[]
  /** Public keys (Z85) of the workers admitted on the backend domain; absent: any key. */
  readonly workerKeys?: readonly string[]
  /** Allow-lists of further domains, by domain name. */
  readonly keys?: Readonly<Record<string, readonly string[]>>
  /**
   * Whether a peer's address is admitted, e.g.
   * `({ address }) => access.allows({ address })` with core's `AccessControl`.
   * Absent: every address.
   */
  readonly allowAddress?: (request: ZapRequest) => boolean
  /** The frontend's domain name (default {@link FRONTEND_DOMAIN}). */
  readonly frontendDomain?: string
  /** The backend's domain name (default {@link BACKEND_DOMAIN}). */
  readonly backendDomain?: string
}

function checkKeyList (value: unknown, name: string): ReadonlySet<string> {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of Z85 keys`)
  return new Set(value.map((key, i) => checkCurveKey(key, `${name}[${i}]`)))
}

function checkDomain (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`)
  return value
}

/**
 * Builds a {@link ZapAuthorize}. A peer is admitted when the address rule admits it
 * and, if its domain has an allow-list, it connects with CURVE and its public key is
 * on that list. A domain with an allow-list refuses NULL and PLAIN peers. A domain
 * without one checks the address only: give every socket a `zapDomain`.
 *
 * @example
 * const access = new AccessControl({ allow: [], deny: [], cidrAllow: ['10.0.0.0/8'], cidrDeny: [] })
 * const authorize = createZapPolicy({
 *   clientKeys: [alice.publicKey],
 *   workerKeys: [worker.publicKey],
 *   allowAddress: ({ address }) => access.allows({ address })
 * })
 */
export function createZapPolicy (options: ZapPolicyOptions = {}): ZapAuthorize {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const lists = new Map<string, ReadonlySet<string>>()
  if (options.keys !== undefined) {
    if (typeof options.keys !== 'object' || options.keys === null) throw new TypeError('options.keys must be an object')
    for (const [domain, keys] of Object.entries(options.keys)) lists.set(domain, checkKeyList(keys, `options.keys.${domain}`))
  }
  const frontend = checkDomain(options.frontendDomain, 'options.frontendDomain', FRONTEND_DOMAIN)
  const backend = checkDomain(options.backendDomain, 'options.backendDomain', BACKEND_DOMAIN)
  if (options.clientKeys !== undefined) lists.set(frontend, checkKeyList(options.clientKeys, 'options.clientKeys'))
  if (options.workerKeys !== undefined) lists.set(backend, checkKeyList(options.workerKeys, 'options.workerKeys'))
  const allowAddress = options.allowAddress
  if (allowAddress !== undefined && typeof allowAddress !== 'function') throw new TypeError('options.allowAddress must be a function')
  return (request) => {
    if (allowAddress !== undefined && !allowAddress(request)) return false
    const list = lists.get(request.domain)
    if (list === undefined) return true
    return request.publicKey !== undefined && list.has(request.publicKey)
  }
}
