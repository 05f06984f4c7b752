/**
 * The dashboard's routes on the broker's HTTP endpoint (beside `/metrics`): the page
 * (static files shipped in the package's `dashboard/` folder, and uPlot's from its
 * npm package), `GET /api/status` (one JSON snapshot), `GET /api/events` (the same
 * snapshot, live) and, only when turned on with a token, `POST /api/actions/<name>`.
 * Every action, taken or refused, is logged and listed on the page.
 * @internal
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { LogLevel } from '@net-server/core'
import { DashboardStream } from './dashboard-stream.js'
import { RateLimiter } from './rate-limit.js'

/** What the page can ask the pool to do. */
export const DASHBOARD_ACTIONS = ['more', 'fewer', 'restart'] as const

/** An action of {@link DASHBOARD_ACTIONS}. */
export type DashboardActionName = typeof DASHBOARD_ACTIONS[number]

/** What the dashboard needs of its server. */
export interface DashboardHost {
  /** The snapshot `/api/status` answers and the stream pushes. */
  snapshot (): unknown
  /** Takes an action; returns what it did, for the log and the page. */
  act (action: DashboardActionName): string
  /** Records an action, taken or refused, for the page. */
  record (action: string, from: string, result: string): void
  log (level: LogLevel, message: string): void
}

/** Whether actions are on, the token they need, and whether the endpoint listens on loopback only. */
export interface DashboardAccess {
  readonly actions: boolean
  readonly token: string | undefined
  /** True when bound to a loopback address: then only requests for a loopback host name are answered. */
  readonly loopback: boolean
}

/** A name or address of this machine's loopback: `localhost`, `127.x.x.x`, `::1`. */
export function isLoopbackName (name: string): boolean {
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name)
}

/** A `Host` header that names this machine's loopback (`localhost:9464`, `127.0.0.1`, `[::1]:9464`). */
export function isLoopbackHost (host: string | undefined): boolean {
  if (host === undefined) return false
  return isLoopbackName(host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, ''))
}

interface StaticFile {
  readonly type: string
  readonly body: Buffer
}

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/** The page's files, by URL path: read once, when the endpoint starts. */
function staticFiles (): ReadonlyMap<string, StaticFile> {
  const uplot = (file: string): string => createRequire(import.meta.url).resolve(`uplot/dist/${file}`)
  const files: Array<[string, string, string]> = [
    ['/', here('../dashboard/index.html'), 'text/html; charset=utf-8'],
    ['/dashboard.js', here('../dashboard/dashboard.js'), 'text/javascript; charset=utf-8'],
    ['/charts.js', here('../dashboard/charts.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard.css', here('../dashboard/dashboard.css'), 'text/css; charset=utf-8'],
    ['/vendor/uPlot.esm.js', uplot('uPlot.esm.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', uplot('uPlot.min.css'), 'text/css; charset=utf-8']
  ]
  const map = new Map(files.map(([path, file, type]) => [path, { type, body: readFileSync(file) }]))
  map.set('/index.html', map.get('/')!)
  return map
}

/** Headers of every dashboard answer: nothing cached, no framing, no other origin's scripts. */
const SAFE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer'
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': 'application/json', ...headers }).end(`${JSON.stringify(body)}\n`)
}

/** The dashboard of one server. */
export class DashboardEndpoint {
  readonly #host: DashboardHost
  readonly #access: DashboardAccess
  readonly #files = staticFiles()
  readonly #stream: DashboardStream
  readonly #tokenHash: Buffer | undefined
  readonly #refusals: RateLimiter

  constructor (host: DashboardHost, access: DashboardAccess) {
    this.#host = host
    this.#access = access
    this.#stream = new DashboardStream(() => host.snapshot())
    this.#tokenHash = access.token === undefined ? undefined : sha256(access.token)
    // Refused actions are logged, but a flood of them gives one line per window.
    this.#refusals = new RateLimiter((_kind, line) => { host.log(2, line) })
  }

  /** Something changed that the pages should see soon. */
  changed (): void {
    this.#stream.changed()
  }

  /** Answers `req` when its path is the dashboard's; false for any other path. */
  handle (req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const ours = path.startsWith('/api/') || this.#files.has(path)
    if (ours && this.#access.loopback && !isLoopbackHost(req.headers.host)) {
      // A page elsewhere whose name was made to resolve to 127.0.0.1 (DNS rebinding) must not read the pool.
      json(res, 421, { error: 'the dashboard listens on loopback and answers requests for localhost or 127.0.0.1 only (a proxy must send such a Host header)' })
      return true
    }
    if (path.startsWith('/api/actions/')) {
      this.#action(req, res, path.slice('/api/actions/'.length))
      return true
    }
    const file = this.#files.get(path)
    if (file === undefined && path !== '/api/status' && path !== '/api/events') return false
    // HEAD for the files only: a stream opened by HEAD would be held for nothing.
    if (req.method !== 'GET' && !(req.method === 'HEAD' && file !== undefined)) {
      json(res, 405, { error: `${path} answers GET only` }, { allow: file === undefined ? 'GET' : 'GET, HEAD' })
      return true
    }
    if (file !== undefined) res.writeHead(200, { ...SAFE_HEADERS, 'content-type': file.type }).end(req.method === 'HEAD' ? undefined : file.body)
    else if (path === '/api/status') json(res, 200, this.#host.snapshot())
    else this.#stream.open(req, res)
    return true
  }

  /** Ends the live streams and writes the summaries of refused actions. */
  close (): void {
    this.#stream.close()
    this.#refusals.close()
  }

  #action (req: IncomingMessage, res: ServerResponse, name: string): void {
    // The body says nothing: it is not read.
    req.resume()
    const from = req.socket.remoteAddress ?? '?'
    const refuse = (status: number, why: string, headers: Record<string, string> = {}): void => {
      this.#refusals.note(`dashboard action refused (${status})`, `dashboard: action '${name.slice(0, 40)}' from ${from} refused: ${why}`)
      if (status !== 404 && status !== 405) this.#host.record(name, from, `refused: ${why}`)
      json(res, status, { error: why }, headers)
    }
    if (!(DASHBOARD_ACTIONS as readonly string[]).includes(name)) return refuse(404, `no such action (${DASHBOARD_ACTIONS.join(', ')})`)
    if (req.method !== 'POST') return refuse(405, 'actions answer POST only', { allow: 'POST' })
    if (!this.#access.actions || this.#tokenHash === undefined) return refuse(403, 'actions are off (dashboardActions)')
    // `Authorization: Bearer`, or the page's own header, which leaves `Authorization` to a proxy's login.
    const header = req.headers['x-dashboard-token']
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (typeof header === 'string' ? header : undefined)
    if (given === undefined || !timingSafeEqual(sha256(given), this.#tokenHash)) return refuse(401, 'wrong or missing token', { 'www-authenticate': 'Bearer' })
    const action = name as DashboardActionName
    let result: string
    try {
      result = this.#host.act(action)
    } catch (err) {
      result = `failed: ${(err as Error).message}`
      this.#host.log(1, `dashboard: action '${action}' from ${from} ${result}`)
      this.#host.record(action, from, result)
      json(res, 500, { error: result })
      return
    }
    this.#host.log(2, `dashboard: action '${action}' from ${from}: ${result}`)
    this.#host.record(action, from, result)
    json(res, 200, { action, result })
  }
}
