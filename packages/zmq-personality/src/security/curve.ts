/**
 * CURVE encryption (ZeroMQ RFC 26) for the broker's sockets: validation of Z85 keys,
 * the socket options of a server (a ROUTER that binds) and of a client (a worker's
 * DEALER that connects), and the public key that belongs to a secret key.
 *
 * Settings are applied before `bind()` / `connect()`: libzmq reads them when a
 * connection starts.
 */

import { createPrivateKey, createPublicKey } from 'node:crypto'
import { curveKeyPair, type Socket } from 'zeromq'
import { z85Decode, z85Encode } from './z85.js'

/** A CURVE key pair in Z85 text (40 characters each), as `curveKeyPair()` makes it. */
export interface CurveKeyPair {
  /** The key that peers may know (libzmq `ZMQ_CURVE_PUBLICKEY`). */
  readonly publicKey: string
  /** The key that never leaves its owner (`ZMQ_CURVE_SECRETKEY`). */
  readonly secretKey: string
}

/** CURVE options of a socket that accepts encrypted peers: the frontend or backend ROUTER. */
export interface CurveServerOptions {
  /** The server's secret key (`ZMQ_CURVE_SECRETKEY`). */
  readonly secretKey: string
  /** The server's public key; derived from `secretKey` when left out, checked against it when given. */
  readonly publicKey?: string
}

/**
 * CURVE options of a socket that connects to a CURVE server: a worker's DEALER. The
 * same shape as the client package's `CurveOptions`.
 */
export interface CurveClientOptions {
  /** The server's public key (`ZMQ_CURVE_SERVERKEY`). */
  readonly serverKey: string
  /** This peer's public key; derived from `secretKey` when left out. */
  readonly publicKey?: string
  /** This peer's secret key; with neither key, a fresh pair is made. */
  readonly secretKey?: string
}

/** zeromq.js socket options that make a socket a CURVE server. */
export interface CurveServerSocketOptions {
  /** `ZMQ_CURVE_SERVER`. */
  readonly curveServer: true
  /** `ZMQ_CURVE_SECRETKEY`. */
  readonly curveSecretKey: string
  /** `ZMQ_CURVE_PUBLICKEY`: not needed by libzmq, kept to tell clients the `serverKey`. */
  readonly curvePublicKey: string
}

/** zeromq.js socket options that make a socket a CURVE client. */
export interface CurveClientSocketOptions {
  /** `ZMQ_CURVE_SERVERKEY`. */
  readonly curveServerKey: string
  /** `ZMQ_CURVE_PUBLICKEY`. */
  readonly curvePublicKey: string
  /** `ZMQ_CURVE_SECRETKEY`. */
  readonly curveSecretKey: string
}

/** The DER header of a PKCS #8 X25519 private key, followed by the 32 raw key bytes. */
const X25519_PKCS8_HEADER = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** True when `value` is a CURVE key in Z85 text: 40 characters that decode to 32 bytes. */
export function isCurveKey (value: unknown): value is string {
  return typeof value === 'string' && value.length === 40 && z85Decode(value) !== undefined
}

/** Returns `value` when it is a Z85 CURVE key; else throws a TypeError naming the option `name`. */
export function checkCurveKey (value: unknown, name: string): string {
  if (!isCurveKey(value)) throw new TypeError(`${name} must be a 40-character Z85 key`)
  return value
}

/**
 * The public key that belongs to a secret key (libzmq `zmq_curve_public`, which
 * zeromq.js does not bind). CURVE keys are X25519 keys, so Node's crypto computes it.
 *
 * @example
 * const { publicKey, secretKey } = curveKeyPair()
 * curvePublicKey(secretKey) === publicKey // true
 */
export function curvePublicKey (secretKey: string): string {
  const raw = z85Decode(checkCurveKey(secretKey, 'secretKey'))!
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_HEADER, raw]), format: 'der', type: 'pkcs8' })
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  return z85Encode(Buffer.from(jwk.x!, 'base64url'))
}

/** A fresh random key pair (zeromq.js `curveKeyPair()`). */
export function generateCurveKeyPair (): CurveKeyPair {
  return curveKeyPair()
}

function checkObject (value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`)
  return value as Record<string, unknown>
}

/** Checks an own key pair where either key may be left out; derives or makes what is missing. */
function ownKeyPair (curve: Record<string, unknown>, name: string, fresh: boolean): CurveKeyPair {
  const publicKey = curve['publicKey'] === undefined ? undefined : checkCurveKey(curve['publicKey'], `${name}.publicKey`)
  if (curve['secretKey'] === undefined) {
    if (publicKey !== undefined) throw new TypeError(`${name}.publicKey needs ${name}.secretKey`)
    if (fresh) return curveKeyPair()
    throw new TypeError(`${name}.secretKey must be a 40-character Z85 key`)
  }
  const secretKey = checkCurveKey(curve['secretKey'], `${name}.secretKey`)
  const derived = curvePublicKey(secretKey)
  if (publicKey !== undefined && publicKey !== derived) {
    throw new RangeError(`${name}.publicKey does not belong to ${name}.secretKey`)
  }
  return { publicKey: derived, secretKey }
}

/**
 * Validates {@link CurveServerOptions} and returns the socket options of a CURVE
 * server, to pass to a socket constructor or to {@link applyCurveServer}. `name` is
 * the option path that errors name.
 *
 * @example
 * const frontend = new Router({ ...curveServerSocketOptions({ secretKey }), zapDomain: 'frontend' })
 */
export function curveServerSocketOptions (options: CurveServerOptions, name = 'options.curve'): CurveServerSocketOptions {
  const pair = ownKeyPair(checkObject(options, name), name, false)
  return { curveServer: true, curveSecretKey: pair.secretKey, curvePublicKey: pair.publicKey }
}

/**
 * Validates {@link CurveClientOptions} and returns the socket options of a CURVE
 * client; without keys of its own the peer gets a fresh pair (its public key is then
 * `curvePublicKey` of the result, which an allow-list cannot know in advance).
 */
export function curveClientSocketOptions (options: CurveClientOptions, name = 'options.curve'): CurveClientSocketOptions {
  const curve = checkObject(options, name)
  const serverKey = checkCurveKey(curve['serverKey'], `${name}.serverKey`)
  const pair = ownKeyPair(curve, name, true)
  return { curveServerKey: serverKey, curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey }
}

function apply (socket: Socket, settings: object, name: string): void {
  try {
    Object.assign(socket, settings)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new TypeError(`${name} is refused by libzmq: ${reason}`, { cause: err })
  }
}

/**
 * Makes `socket` a CURVE server; call it before `bind()`. Returns the server's public
 * key, the `serverKey` that its clients and workers need.
 */
export function applyCurveServer (socket: Socket, options: CurveServerOptions, name = 'options.curve'): string {
  const settings = curveServerSocketOptions(options, name)
  // CURVE_SERVER first: libzmq makes a socket a client when it sees a server key.
  apply(socket, settings, name)
  return settings.curvePublicKey
}

/**
 * Makes `socket` a CURVE client of the server whose public key is `options.serverKey`;
 * call it before `connect()`. Returns the socket's own public key.
 */
export function applyCurveClient (socket: Socket, options: CurveClientOptions, name = 'options.curve'): string {
  const settings = curveClientSocketOptions(options, name)
  apply(socket, settings, name)
  return settings.curvePublicKey
}
