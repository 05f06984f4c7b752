/**
 * CURVE and ZAP as a {@link ZmqServer} and a {@link WorkerPool} use them: the
 * options checked together, the socket options of the broker's ROUTERs and of the
 * workers' DEALERs, the ZAP policy, and the keys that the parent hands its children.
 */

import type { Dealer, Router, SocketOptions } from 'zeromq'
import { curveClientSocketOptions, curvePublicKey, curveServerSocketOptions, generateCurveKeyPair, type CurveKeyPair } from './curve.js'
import { readKeyFile } from './key-file.js'
import { keyFileError } from '../errors.js'
import type { CurveSockets, ResolvedZmqServerOptions } from '../server-options.js'
import { zapSocketOptions, type ZapAuthorize } from './zap-handler.js'
import { BACKEND_DOMAIN, FRONTEND_DOMAIN, createZapPolicy } from './zap-policy.js'

/** Environment variable that hands the broker's public key to the workers. */
export const CURVE_SERVER_KEY_ENV = 'NSZ_ZMQ_CURVE_SERVER_KEY'
/** Environment variable that hands the workers' public key to them. */
export const CURVE_PUBLIC_KEY_ENV = 'NSZ_ZMQ_CURVE_PUBLIC_KEY'
/** Environment variable that hands the workers' secret key to them; a worker removes it once read. */
export const CURVE_SECRET_KEY_ENV = 'NSZ_ZMQ_CURVE_SECRET_KEY'

/** The security options of a server, as {@link ResolvedZmqServerOptions} holds them. */
export type ServerSecurityOptions = Pick<ResolvedZmqServerOptions,
'curve' | 'curveSecretKey' | 'curveKeyFile' | 'clientKeys' | 'workerKeys' | 'allow' | 'deny' | 'cidrAllow' | 'cidrDeny'>

/** What a broker binds with, from {@link brokerSecurity}. */
export interface BrokerSecurity {
  /** Options of the frontend ROUTER: CURVE and `zapDomain`, as configured. */
  readonly frontendSocketOptions: SocketOptions<Router>
  /** Options of the backend ROUTER. */
  readonly backendSocketOptions: SocketOptions<Router>
  /** The broker's public key, when a socket uses CURVE: the `serverKey` of its clients and workers. */
  readonly serverKey: string | undefined
  /** Which sockets use CURVE. */
  readonly curve: CurveSockets
  /** The ZAP decision, when ZAP is on; `undefined` leaves ZAP off. */
  readonly authorize: ZapAuthorize | undefined
  /** The environment that lets the local children join the backend (CURVE keys), maybe empty. */
  readonly childEnv: Readonly<Record<string, string>>
}

/** The sockets CURVE encrypts, the default (`both` with a key, else `none`) resolved. */
export function curveSockets (o: Pick<ServerSecurityOptions, 'curve' | 'curveSecretKey' | 'curveKeyFile'>): CurveSockets {
  return o.curve ?? (o.curveSecretKey === undefined && o.curveKeyFile === undefined ? 'none' : 'both')
}

/**
 * Checks the security options of a broker together; throws a TypeError / RangeError
 * that names the option. Runs once every source is merged, before anything binds.
 */
export function checkServerSecurity (o: ServerSecurityOptions): void {
  if (o.curveSecretKey !== undefined && o.curveKeyFile !== undefined) {
    throw new RangeError('options.curveSecretKey and options.curveKeyFile exclude each other: give one')
  }
  const curve = curveSockets(o)
  if (curve !== 'none' && o.curveSecretKey === undefined && o.curveKeyFile === undefined) {
    throw new RangeError(`options.curve '${curve}' needs options.curveSecretKey or options.curveKeyFile`)
  }
  if (o.clientKeys.length > 0 && curve !== 'frontend' && curve !== 'both') {
    throw new RangeError(`options.clientKeys needs CURVE on the frontend (options.curve 'frontend' or 'both', got '${curve}')`)
  }
  if (o.workerKeys.length > 0 && curve !== 'backend' && curve !== 'both') {
    throw new RangeError(`options.workerKeys needs CURVE on the backend (options.curve 'backend' or 'both', got '${curve}')`)
  }
}

/**
 * The own key pair from `curveSecretKey` or `curveKeyFile` (which must hold the
 * secret key); `undefined` when neither is set. Rejects with `NSZ_ERR_KEY_FILE`.
 */
export async function ownKeyPair (o: Pick<ServerSecurityOptions, 'curveSecretKey' | 'curveKeyFile'>): Promise<CurveKeyPair | undefined> {
  if (o.curveSecretKey !== undefined) return { publicKey: curvePublicKey(o.curveSecretKey), secretKey: o.curveSecretKey }
  if (o.curveKeyFile === undefined) return undefined
  const keys = await readKeyFile(o.curveKeyFile)
  if (keys.secretKey === undefined) {
    throw keyFileError(o.curveKeyFile, 'holds no secretKey (options.curveKeyFile needs the secret key file, not the public certificate)')
  }
  return { publicKey: keys.publicKey, secretKey: keys.secretKey }
}

/**
 * Everything a broker binds with: the ROUTERs' CURVE settings, the ZAP policy, and
 * the keys for the local children. ZAP is on when access rules, key lists or CURVE
 * are configured; then both ROUTERs get a `zapDomain`, so that libzmq asks about
 * every connection, plain ones included. `allowAddress` applies the access rules
 * (core's `isAllowed`) to frontend peers.
 *
 * With CURVE on the backend a fresh pool key pair is made for the local children
 * (handed down through {@link BrokerSecurity.childEnv}); with `workerKeys` its public
 * key joins that list.
 */
export async function brokerSecurity (o: ServerSecurityOptions, allowAddress: (address: string) => boolean): Promise<BrokerSecurity> {
  const curve = curveSockets(o)
  const own = curve === 'none' ? undefined : await ownKeyPair(o)
  const server = own === undefined ? undefined : curveServerSocketOptions(own, 'options.curveSecretKey')
  const hasRules = o.allow.length + o.deny.length + o.cidrAllow.length + o.cidrDeny.length > 0
  const zap = hasRules || curve !== 'none'
  const encrypts = (socket: 'frontend' | 'backend'): boolean => curve === socket || curve === 'both'
  const socketOptions = (socket: 'frontend' | 'backend', domain: string): SocketOptions<Router> => ({
    ...(encrypts(socket) ? server : {}),
    ...(zap ? zapSocketOptions(domain) : {})
  })
  const pool = encrypts('backend') ? generateCurveKeyPair() : undefined
  const authorize = !zap
    ? undefined
    : createZapPolicy({
      ...(o.clientKeys.length > 0 ? { clientKeys: o.clientKeys } : {}),
      ...(o.workerKeys.length > 0 ? { workerKeys: [...o.workerKeys, pool!.publicKey] } : {}),
      // Net::Server's rules are about clients: workers are admitted by key and by the backend's bind address.
      ...(hasRules ? { allowAddress: ({ domain, address }) => domain !== FRONTEND_DOMAIN || allowAddress(address) } : {})
    })
  return {
    frontendSocketOptions: socketOptions('frontend', FRONTEND_DOMAIN),
    backendSocketOptions: socketOptions('backend', BACKEND_DOMAIN),
    serverKey: server?.curvePublicKey,
    curve,
    authorize,
    childEnv: pool === undefined ? {} : curveChildEnv(server!.curvePublicKey, pool)
  }
}

/** The environment that hands a worker the broker's public key and its own key pair. */
export function curveChildEnv (serverKey: string, keys: CurveKeyPair): Record<string, string> {
  return {
    [CURVE_SERVER_KEY_ENV]: serverKey,
    [CURVE_PUBLIC_KEY_ENV]: keys.publicKey,
    [CURVE_SECRET_KEY_ENV]: keys.secretKey
  }
}

/**
 * In a worker: the DEALER's CURVE options from the keys its parent handed down, or
 * `{}` without them. The variables are removed from `env`, so that processes the job
 * functions start do not inherit the secret key.
 */
export function takeWorkerCurve (env: NodeJS.ProcessEnv = process.env): SocketOptions<Dealer> {
  const serverKey = env[CURVE_SERVER_KEY_ENV]
  const publicKey = env[CURVE_PUBLIC_KEY_ENV]
  const secretKey = env[CURVE_SECRET_KEY_ENV]
  delete env[CURVE_SERVER_KEY_ENV]
  delete env[CURVE_PUBLIC_KEY_ENV]
  delete env[CURVE_SECRET_KEY_ENV]
  if (serverKey === undefined || serverKey === '') return {}
  const own = publicKey === undefined || secretKey === undefined ? {} : { publicKey, secretKey }
  return curveClientSocketOptions({ serverKey, ...own }, `the environment's ${CURVE_SERVER_KEY_ENV}`)
}
