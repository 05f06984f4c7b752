/**
 * Who may register on a broker's backend: the server's own children, always; remote
 * workers only with a listed CURVE key, or with the explicit `insecureBackend`.
 * Decided by ZAP when a worker connects, so the data path pays nothing for it.
 */

import type { ZapRefusal } from '../types.js'
import type { ZapRequest } from './zap-handler.js'

/** The credentials libzmq reports for an `ipc://` peer (Linux `SO_PEERCRED`). */
export interface IpcPeer {
  readonly uid: number
  readonly gid: number
  readonly pid: number
}

// libzmq writes an ipc peer's address as `<host>:<uid>:<gid>:<pid>` (the host part is
// `localhost` with glibc). No IP address has this form: an IPv6 address with three
// colons holds a `::`, that is an empty group, and `\d+` refuses an empty group.
const IPC_PEER = /^[^:]*:(\d+):(\d+):(\d+)$/

/** The credentials in a ZAP request's `address` for an `ipc://` peer; `undefined` for any other. */
export function ipcPeer (address: string): IpcPeer | undefined {
  const m = IPC_PEER.exec(address)
  return m === null ? undefined : { uid: Number(m[1]), gid: Number(m[2]), pid: Number(m[3]) }
}

/** Options of {@link createBackendPolicy}. */
export interface BackendPolicyOptions {
  /** Public keys (Z85) of the remote workers admitted; they connect with CURVE. */
  readonly workerKeys: readonly string[]
  /** Admit every remote worker (trusted networks only). */
  readonly insecureBackend: boolean
  /** True when `pid` is one of the server's own children. */
  readonly isOwnChild: (pid: number) => boolean
  /** Told why a worker was refused, for the loss counters and the log: a reason and its text. */
  readonly refused?: (request: ZapRequest, reason: ZapRefusal, why: string) => void
}

/**
 * The ZAP decision for the backend domain. A peer is local when it came over
 * `ipc://` and libzmq names its process (Linux): then it is admitted only when that
 * process is one of the server's own children, whatever the socket file's mode lets
 * through. An `ipc://` peer without credentials (other systems, or `inproc://`) has
 * only the socket's directory mode between it and the broker, and is admitted as
 * local. Every other peer is remote: admitted with `insecureBackend`, or when it
 * connects with CURVE and its public key is in `workerKeys`; refused otherwise.
 */
export function createBackendPolicy (options: BackendPolicyOptions): (request: ZapRequest) => boolean {
  const keys = new Set(options.workerKeys)
  return (request) => {
    const peer = ipcPeer(request.address)
    if (peer !== undefined && options.isOwnChild(peer.pid)) return true
    if (peer === undefined && request.address === '') return true
    if (options.insecureBackend) return true
    // A process on this host is not a child; anyone else is a remote worker.
    const refuse = (why: string): false => {
      const reason = peer === undefined ? 'workerKey' : 'notChild'
      options.refused?.(request, reason, peer === undefined ? why : `pid ${peer.pid} (uid ${peer.uid}) is not one of the server's children, and ${why}`)
      return false
    }
    if (keys.size === 0) return refuse('the backend admits remote workers only with workerKeys (--worker-keys) or insecureBackend (--insecure-backend)')
    if (request.mechanism !== 'CURVE' || request.publicKey === undefined) return refuse(`a ${request.mechanism} worker; workerKeys admit CURVE workers only`)
    return keys.has(request.publicKey) || refuse(`public key ${request.publicKey} is not in workerKeys`)
  }
}
