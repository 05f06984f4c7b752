/**
 * CURVE and ZAP as a {@link ZmqServer} and a {@link WorkerPool} use them: the
 * options checked together, the socket options of the broker's ROUTERs and of the
 * workers' DEALERs, the ZAP policy, and the keys that the parent hands its children
 * over their IPC channel.
 */

import type { Router, SocketOptions } from 'zeromq'
import { createBackendPolicy } from './backend-policy.js'
import { curvePublicKey, curveServerSocketOptions, generateCurveKeyPair, type CurveKeyPair } from './curve.js'
import { readKeyFile } from './key-file.js'
import { keyFileError } from '../errors.js'
import type { CurveSockets, ResolvedZmqServerOptions } from '../server-options.js'
import type { ZapRefusal } from '../types.js'
import type { WorkerCurve } from './local-workers.js'
import { zapSocketOptions, type ZapAuthorize, type ZapRequest } from './zap-handler.js'
import { BACKEND_DOMAIN, FRONTEND_DOMAIN } from './zap-policy.js'

/** The security options of a server, as {@link ResolvedZmqServerOptions} holds them. */
export type ServerSecurityOptions = Pick<ResolvedZmqServerOptions,
'curve' | 'curveSecretKey' | 'curveKeyFile' | 'clientKeys' | 'workerKeys' | 'insecureBackend' | 'allow' | 'deny' | 'cidrAllow' | 'cidrDeny'>

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
  /** The ZAP decision: always, since the backend admits only its own children and listed workers. */
  readonly authorize: ZapAuthorize
  /** The CURVE keys of the local children, with CURVE on the backend (handed over IPC, never the environment). */
  readonly childCurve: WorkerCurve | undefined
}

/** What {@link brokerSecurity} asks of the server. */
export interface BrokerSecurityHost {
  /** Core's access rules (`isAllowed`), for frontend peers. */
  allowAddress (address: string): boolean
  /** True when `pid` is one of the server's own children. */
  isOwnChild (pid: number): boolean
  /** Told of each peer refused, on either socket, with the reason and its text. */
  refused (request: ZapRequest, reason: ZapRefusal, why: string): void
}

/** How a refused peer is named in the loss log: its address (or `no address`), mechanism and key. */
export function zapPeer (request: ZapRequest): string {
  const key = request.publicKey === undefined ? '' : ` ${request.publicKey}`
  return `${request.address === '' ? 'no address' : request.address}, ${request.mechanism}${key}`
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
  if (o.workerKeys.length > 0 && o.insecureBackend) {
    throw new RangeError('options.insecureBackend and options.workerKeys exclude each other: insecureBackend admits every worker, workerKeys only the listed ones')
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
 * the keys for the local children. The backend always gets a `zapDomain`, so that
 * libzmq asks about every worker, plain ones included: the server's own children
 * are admitted, remote workers only by `workerKeys` or `insecureBackend`
 * ({@link createBackendPolicy}). The frontend gets one when access rules, key lists
 * or CURVE are configured; `allowAddress` applies the access rules to its peers.
 *
 * With CURVE on the backend a fresh key pair is made for the local children
 * ({@link BrokerSecurity.childCurve}).
 */
export async function brokerSecurity (o: ServerSecurityOptions, host: BrokerSecurityHost): Promise<BrokerSecurity> {
  const curve = curveSockets(o)
  const own = curve === 'none' ? undefined : await ownKeyPair(o)
  const server = own === undefined ? undefined : curveServerSocketOptions(own, 'options.curveSecretKey')
  const hasRules = o.allow.length + o.deny.length + o.cidrAllow.length + o.cidrDeny.length > 0
  const encrypts = (socket: 'frontend' | 'backend'): boolean => curve === socket || curve === 'both'
  const frontendZap = hasRules || curve !== 'none'
  const clientKeys = o.clientKeys.length > 0 ? new Set(o.clientKeys) : undefined
  const clients = (request: ZapRequest): boolean => {
    const refuse = (reason: ZapRefusal, why: string): false => {
      host.refused(request, reason, `client refused on the frontend: ${why}`)
      return false
    }
    if (hasRules && !host.allowAddress(request.address)) return refuse('address', `the access rules (allow, deny, cidrAllow, cidrDeny) refuse address ${request.address === '' ? '(none)' : request.address}`)
    if (clientKeys === undefined) return true
    if (request.publicKey === undefined) return refuse('clientKey', `a ${request.mechanism} client; clientKeys admit CURVE clients only`)
    return clientKeys.has(request.publicKey) || refuse('clientKey', `public key ${request.publicKey} is not in clientKeys`)
  }
  const workers = createBackendPolicy({
    workerKeys: o.workerKeys,
    insecureBackend: o.insecureBackend,
    isOwnChild: (pid) => host.isOwnChild(pid),
    refused: (request, reason, why) => { host.refused(request, reason, `worker refused on the backend: ${why}`) }
  })
  const pool = encrypts('backend') ? generateCurveKeyPair() : undefined
  return {
    frontendSocketOptions: { ...(encrypts('frontend') ? server : {}), ...(frontendZap ? zapSocketOptions(FRONTEND_DOMAIN) : {}) },
    backendSocketOptions: { ...(encrypts('backend') ? server : {}), ...zapSocketOptions(BACKEND_DOMAIN) },
    serverKey: server?.curvePublicKey,
    curve,
    authorize: (request) => request.domain === BACKEND_DOMAIN ? workers(request) : clients(request),
    childCurve: pool === undefined ? undefined : { serverKey: server!.curvePublicKey, ...pool }
  }
}
