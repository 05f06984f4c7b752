import { BlockList, isIP } from 'node:net'

/** What allow/deny rules look at: the peer's address and, where known, its host name. */
export interface PeerInfo {
  /** IPv4 or IPv6 address, e.g. `127.0.0.1`. */
  readonly address?: string | undefined
  /** Host name, when it was resolved. */
  readonly hostname?: string | undefined
}

/** Net::Server's access rules. */
export interface AccessRules {
  /** Regular expressions matched against the address and host name (`allow`). */
  readonly allow: readonly string[]
  /** Regular expressions that refuse a peer (`deny`). */
  readonly deny: readonly string[]
  /** CIDR blocks that admit a peer (`cidr_allow`). */
  readonly cidrAllow: readonly string[]
  /** CIDR blocks that refuse a peer (`cidr_deny`). */
  readonly cidrDeny: readonly string[]
}

/** Throws a RangeError naming the option when `value` is not a CIDR block. */
export function checkCidr (value: string, name: string): void {
  parseCidr(value, name)
}

function parseCidr (value: string, name: string): [string, number, 'ipv4' | 'ipv6'] {
  const [address = '', bits, ...rest] = value.trim().split('/')
  const family = isIP(address)
  // A missing or malformed prefix must not turn into /0, which would match every address.
  const prefix = bits === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN
  if (family === 0 || rest.length > 0 || !Number.isInteger(prefix) || prefix > (family === 6 ? 128 : 32)) {
    throw new RangeError(`options.${name} must hold CIDR blocks like 10.0.0.0/8 or ::1/128, got '${value}'`)
  }
  return [address, prefix, family === 6 ? 'ipv6' : 'ipv4']
}

/** Throws a RangeError naming the option when `value` is not a regular expression. */
export function checkPattern (value: string, name: string): void {
  try {
    RegExp(value)
  } catch {
    throw new RangeError(`options.${name} must hold regular expressions, got '${value}'`)
  }
}

/**
 * Net::Server's `allow_deny`: with no rules every peer is allowed; a peer that
 * matches a deny rule is refused; one that matches an allow rule is admitted;
 * when allow rules exist, any other peer is refused. As in Net::Server, a pattern
 * must match the whole address or host name (`^pattern$`), and an IPv4 address in
 * IPv6 notation (`::ffff:10.1.2.3`) is matched as the IPv4 address. Unlike
 * Net::Server, deny rules alone refuse only the peers they match.
 */
export class AccessControl {
  readonly #allow: RegExp[]
  readonly #deny: RegExp[]
  readonly #cidrAllow = new BlockList()
  readonly #cidrDeny = new BlockList()
  readonly #hasAllowRules: boolean
  readonly #hasRules: boolean

  constructor (rules: AccessRules) {
    this.#allow = rules.allow.map(anchored)
    this.#deny = rules.deny.map(anchored)
    for (const c of rules.cidrAllow) this.#cidrAllow.addSubnet(...parseCidr(c, 'cidrAllow'))
    for (const c of rules.cidrDeny) this.#cidrDeny.addSubnet(...parseCidr(c, 'cidrDeny'))
    this.#hasAllowRules = rules.allow.length + rules.cidrAllow.length > 0
    this.#hasRules = this.#hasAllowRules || rules.deny.length + rules.cidrDeny.length > 0
  }

  /** Whether the rules admit this peer. */
  allows (peer: PeerInfo): boolean {
    if (!this.#hasRules) return true
    const address = unmapped(peer.address)
    const names = [address, peer.hostname].filter((n): n is string => n !== undefined && n.length > 0)
    const family = address === undefined ? 0 : isIP(address)
    const type = family === 6 ? 'ipv6' : 'ipv4'
    if (names.some((n) => this.#deny.some((r) => r.test(n)))) return false
    if (family !== 0 && this.#cidrDeny.check(address!, type)) return false
    if (names.some((n) => this.#allow.some((r) => r.test(n)))) return true
    if (family !== 0 && this.#cidrAllow.check(address!, type)) return true
    return !this.#hasAllowRules
  }
}

/** Net::Server matches `/^$pattern$/`: the pattern covers the whole name. */
function anchored (pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`)
}

/** `::ffff:10.1.2.3` to `10.1.2.3`, as Net::Server does before matching. */
function unmapped (address: string | undefined): string | undefined {
  const match = address === undefined ? null : /^::ffff:(\d+(?:\.\d+){3})$/i.exec(address.trim())
  return match === null ? address?.trim() : match[1]
}
