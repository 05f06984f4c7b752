/**
 * ZeroMQ endpoints: the one check that every option holding an endpoint uses, and the
 * helpers that build and rewrite them. The broker, the worker agent, the servers and
 * the option checks all import them from here.
 */

/** Transports an endpoint may name; `connect` endpoints (a worker's) take only `tcp` and `ipc`. */
const TRANSPORTS = ['tcp', 'ipc', 'inproc', 'ws', 'wss', 'tipc', 'vmci', 'pgm', 'epgm', 'norm', 'udp'] as const

/** A transport of {@link TRANSPORTS}. */
export type Transport = typeof TRANSPORTS[number]

const ENDPOINT = /^([a-z0-9+]+):\/\/./

/** What {@link checkEndpoint} accepts beyond a well-formed endpoint. */
export interface EndpointCheck {
  /** Transports allowed; default: every transport libzmq knows. */
  readonly transports?: readonly Transport[]
  /** An example for the error message; default `tcp://127.0.0.1:6660`. */
  readonly example?: string
  /** What the endpoint is, for the error message; default `a ZeroMQ endpoint`. */
  readonly what?: string
  /** `undefined` is accepted (and returned) instead of refused as "required". */
  readonly optional?: boolean
}

/**
 * Returns `value` when it is an endpoint such as `tcp://127.0.0.1:6660` or
 * `ipc:///run/jobs.sock`; throws a TypeError (not a string) or a RangeError (not an
 * endpoint, or a transport not allowed) that names `options.<name>`.
 */
export function checkEndpoint (value: unknown, name: string, check: EndpointCheck & { optional: true }): string | undefined
export function checkEndpoint (value: unknown, name: string, check?: EndpointCheck): string
export function checkEndpoint (value: unknown, name: string, check: EndpointCheck = {}): string | undefined {
  if (value === undefined && check.optional === true) return undefined
  const transports = check.transports ?? TRANSPORTS
  const what = check.what ?? 'a ZeroMQ endpoint'
  const example = check.example ?? (transports.includes('ipc') ? 'tcp://127.0.0.1:6660 or ipc:///run/jobs.sock' : 'tcp://127.0.0.1:6660')
  const required = value === undefined ? ' (it is required)' : ''
  if (typeof value !== 'string') throw new TypeError(`options.${name} must be ${what}, like ${example}${required}`)
  const transport = ENDPOINT.exec(value)?.[1]
  if (transport === undefined || !(transports as readonly string[]).includes(transport)) {
    throw new RangeError(`options.${name} must be ${what}, like ${example}, got '${value}'`)
  }
  return value
}

/** True for a TCP endpoint on an IPv6 address (`tcp://[::1]:6660`): libzmq binds those only with `ipv6` on. */
export function isIpv6Endpoint (endpoint: string): boolean {
  return endpoint.startsWith('tcp://[')
}

/** A TCP endpoint for host and port; port 0 lets the system choose. */
export function tcpEndpoint (host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return `tcp://${h}:${port === 0 ? '*' : String(port)}`
}

/** A bound endpoint as a peer on this host connects to it (a wildcard address becomes loopback). */
export function connectable (endpoint: string): string {
  return endpoint
    .replace(/^tcp:\/\/(0\.0\.0\.0|\*):/, 'tcp://127.0.0.1:')
    .replace(/^tcp:\/\/\[::\]:/, 'tcp://[::1]:')
}

/** The port of a TCP endpoint, or the endpoint itself (ipc), for process titles. */
export function portOf (endpoint: string | undefined): string {
  return endpoint?.match(/:(\d+)$/)?.[1] ?? endpoint ?? '?'
}
