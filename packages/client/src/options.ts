/**
 * Options of the clients: what a user passes, the defaults, and their validation.
 *
 * Times are in milliseconds here; the `zmq-client` command takes seconds.
 */

/** CURVE keys (Z85 text, 40 characters) for an encrypted connection to the broker. */
export interface CurveOptions {
  /** The broker's public key (libzmq `ZMQ_CURVE_SERVERKEY`). */
  readonly serverKey: string
  /** This client's public key (`ZMQ_CURVE_PUBLICKEY`); with `secretKey`, or both left out for a fresh pair. */
  readonly publicKey?: string
  /** This client's secret key (`ZMQ_CURVE_SECRETKEY`). */
  readonly secretKey?: string
}

/** Options that both clients share. */
export interface BaseClientOptions {
  /** The broker's frontend, e.g. `tcp://localhost:6660` (the seed's `--endpoint`). */
  readonly endpoint?: string
  /** How long to wait for each reply, in ms (the seed's `--timeout`, there in seconds). */
  readonly timeout?: number
  /** How many times to resend after a timeout; 0 sends once (the seed's `--retries`). */
  readonly retries?: number
  /** The socket's routing id (libzmq `ZMQ_ROUTING_ID`, the seed's `--identity`): 1 to 255 bytes. */
  readonly identity?: string
  /** Encrypt the connection with CURVE. */
  readonly curve?: CurveOptions
}

/** Per-request options; `timeout` and `retries` override the client's. */
export interface RequestOptions {
  /** How long to wait for each reply, in ms. */
  readonly timeout?: number
  /** How many times to resend after a timeout. */
  readonly retries?: number
  /** Aborts the request: it rejects with `signal.reason`. */
  readonly signal?: AbortSignal
}

/** The default frontend endpoint, the seed's. */
export const DEFAULT_ENDPOINT = 'tcp://localhost:6660'

/** Defaults of {@link BaseClientOptions}. */
export const baseDefaults = {
  endpoint: DEFAULT_ENDPOINT,
  timeout: 10_000,
  retries: 2
} as const

/** Throws unless `value` is a finite number > 0. */
export function checkTimeout (name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number of milliseconds`)
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number > 0 (got ${value})`)
  // setTimeout clamps anything above 2^31-1 ms to 1 ms.
  if (value > 2_147_483_647) throw new RangeError(`${name} must be at most 2147483647 ms (got ${value})`)
  return value
}

/** Throws unless `value` is an integer >= 0. */
export function checkRetries (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer`)
  if (value < 0) throw new RangeError(`${name} must be an integer >= 0 (got ${value})`)
  return value
}

/** Throws unless `value` is an integer >= 1. */
export function checkPositiveInteger (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be a positive integer`)
  if (value < 1) throw new RangeError(`${name} must be a positive integer (got ${value})`)
  return value
}

function checkIdentity (value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError('options.identity must be a string')
  const bytes = Buffer.byteLength(value)
  if (bytes < 1 || bytes > 255) throw new RangeError(`options.identity must be 1 to 255 bytes long (got ${bytes})`)
  // libzmq reserves routing ids that start with a zero byte for the ones it generates.
  if (value.charCodeAt(0) === 0) throw new RangeError('options.identity must not start with a zero byte')
  return value
}

function checkCurve (value: unknown): CurveOptions | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) throw new TypeError('options.curve must be an object')
  const curve = value as Record<string, unknown>
  for (const key of ['serverKey', 'publicKey', 'secretKey']) {
    const k = curve[key]
    if (k === undefined && key !== 'serverKey') continue
    if (typeof k !== 'string' || k.length !== 40) throw new TypeError(`options.curve.${key} must be a 40-character Z85 key`)
  }
  if ((curve['publicKey'] === undefined) !== (curve['secretKey'] === undefined)) {
    throw new TypeError('options.curve.publicKey and options.curve.secretKey go together')
  }
  return curve as unknown as CurveOptions
}

/** {@link BaseClientOptions} with every default filled in. */
export interface ResolvedBaseClientOptions {
  readonly endpoint: string
  readonly timeout: number
  readonly retries: number
  readonly identity: string | undefined
  readonly curve: CurveOptions | undefined
}

/** Validates the shared options and fills in the defaults. */
export function resolveBaseOptions (options: BaseClientOptions): ResolvedBaseClientOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const endpoint = options.endpoint ?? baseDefaults.endpoint
  if (typeof endpoint !== 'string' || endpoint === '') throw new TypeError('options.endpoint must be a non-empty string')
  return {
    endpoint,
    timeout: checkTimeout('options.timeout', options.timeout ?? baseDefaults.timeout),
    retries: checkRetries('options.retries', options.retries ?? baseDefaults.retries),
    identity: checkIdentity(options.identity),
    curve: checkCurve(options.curve)
  }
}

/** Validates per-request options against the client's resolved ones. */
export function resolveRequestOptions (
  options: RequestOptions | undefined, defaults: { readonly timeout: number, readonly retries: number }
): { timeout: number, retries: number, signal: AbortSignal | undefined } {
  if (options === undefined) return { timeout: defaults.timeout, retries: defaults.retries, signal: undefined }
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal')
  return {
    timeout: options.timeout === undefined ? defaults.timeout : checkTimeout('options.timeout', options.timeout),
    retries: options.retries === undefined ? defaults.retries : checkRetries('options.retries', options.retries),
    signal
  }
}
