/**
 * A broker's own children as workers: the private `ipc://` endpoint they join the
 * backend on, the routing-id tag each child gets, and what the parent hands a child
 * at boot over its IPC channel (never its environment).
 */

import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Dealer, Router, SocketOptions } from 'zeromq'
import type { SocketFactory } from '../tokens.js'
import type { WorkerInfo } from '../types.js'
import { curveClientSocketOptions, isCurveKey } from './curve.js'
import { BACKEND_DOMAIN } from './zap-policy.js'

/**
 * `sockets`, telling `backend` of the broker's backend ROUTER as it is made: the one
 * with the backend's ZAP domain, which every server backend has.
 */
export function notingBackend (sockets: SocketFactory, backend: (router: Router) => void): SocketFactory {
  return {
    router: (options) => {
      const router = sockets.router(options)
      if (options.zapDomain === BACKEND_DOMAIN) backend(router)
      return router
    },
    dealer: (options) => sockets.dealer(options),
    reply: (options) => sockets.reply(options)
  }
}

/** CURVE keys of a worker: the broker's public key and the worker's own pair. */
export interface WorkerCurve {
  readonly serverKey: string
  readonly publicKey: string
  readonly secretKey: string
}

/** What a worker child gets from its parent at boot (prefork's bootstrap data). */
export interface WorkerBootstrap {
  /** The backend endpoint to connect to (a broker's children: its private `ipc://` one). */
  readonly endpoint?: string
  /** The broker's public backend endpoint, for the process title. */
  readonly backend?: string
  /** The start of the worker's routing ids, one per child: how the broker knows its own children's workers. */
  readonly workerTag?: string
  /** The CURVE keys, when the backend uses CURVE. */
  readonly curve?: WorkerCurve
}

const text = (value: unknown): string | undefined => typeof value === 'string' && value.length > 0 ? value : undefined

/** Reads the bootstrap data a child received; anything not of the expected shape is left out. */
export function readWorkerBootstrap (data: unknown): WorkerBootstrap {
  if (typeof data !== 'object' || data === null) return {}
  const d = data as Record<string, unknown>
  const c = (typeof d['curve'] === 'object' && d['curve'] !== null ? d['curve'] : {}) as Record<string, unknown>
  const keys = [c['serverKey'], c['publicKey'], c['secretKey']]
  const endpoint = text(d['endpoint'])
  const workerTag = text(d['workerTag'])
  const backend = text(d['backend'])
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(backend === undefined ? {} : { backend }),
    ...(workerTag === undefined ? {} : { workerTag }),
    ...(keys.every(isCurveKey) ? { curve: { serverKey: keys[0] as string, publicKey: keys[1] as string, secretKey: keys[2] as string } } : {})
  }
}

/** The DEALER options for a worker's CURVE keys; `{}` without them. */
export function workerCurveOptions (curve: WorkerCurve | undefined): SocketOptions<Dealer> {
  return curve === undefined ? {} : curveClientSocketOptions(curve, 'the CURVE keys from the parent')
}

/**
 * The parent's side: a private directory (mode 0700, made by the user the children
 * run as) holding the backend's `ipc://` socket for the children, and a fresh tag per
 * child, forgotten when the child exits.
 */
export class LocalWorkers {
  readonly #tags = new Map<number, string>()
  #dir: string | undefined
  #endpoint: string | undefined

  /** The private endpoint, once bound. */
  get endpoint (): string | undefined {
    return this.#endpoint
  }

  /**
   * Binds `backend` (the broker's backend ROUTER) to a new `ipc://` endpoint in a
   * directory only this process's user can open. Call it after privileges are
   * dropped, so that the directory and the socket belong to the children's user.
   */
  async bind (backend: Router): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'nsz-'))
    this.#dir = dir
    const file = join(dir, 'backend')
    await backend.bind(`ipc://${file}`)
    // The directory already keeps others out; the socket's own mode says the same.
    chmodSync(file, 0o600)
    this.#endpoint = `ipc://${file}`
    return this.#endpoint
  }

  /** A fresh tag for child `pid`, the start of its workers' routing ids. */
  issue (pid: number): string {
    const tag = randomBytes(8).toString('hex') + '.'
    this.#tags.set(pid, Buffer.from(tag).toString('hex'))
    return tag
  }

  /** Forgets child `pid` (it exited). */
  forget (pid: number): void {
    this.#tags.delete(pid)
  }

  /** True while `pid` is a child that got its tag and has not exited. */
  isChild (pid: number): boolean {
    return this.#tags.has(pid)
  }

  /**
   * True for a worker of one of the server's own children: its routing id starts
   * with the tag issued to the pid it announced. Nobody else knows that tag, so no
   * worker can pass for a child and have the broker act on the child's process.
   */
  owns (worker: WorkerInfo): boolean {
    const tag = worker.pid === undefined ? undefined : this.#tags.get(worker.pid)
    return tag !== undefined && worker.id.startsWith(tag)
  }

  /**
   * How a log names a peer: a routing id (hex) that starts with a child's tag becomes
   * `child <pid> <rest>`, so that no log line gives the tag away (with it, a process
   * that may reach the backend could pass for the child); any other peer is left as it is.
   */
  peerName (peer: string): string {
    for (const [pid, tag] of this.#tags) {
      if (peer.startsWith(tag)) return `child ${pid} ${peer.slice(tag.length)}`
    }
    return peer
  }

  /** Removes the private directory (after the backend closed). */
  close (): void {
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true })
    this.#dir = undefined
  }
}
