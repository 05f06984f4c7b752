/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` answers the metrics text; the
 * other paths go to `other` (the dashboard, when it is on), else 404. One plain
 * `node:http` server, bound to `metricsHost` (127.0.0.1 by default), in the broker's process.
 * @internal
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { metricsBindError } from './errors.js'

/** A listening metrics endpoint. */
export interface MetricsEndpoint {
  /** `http://host:port/metrics`, the port resolved when 0 was asked for. */
  readonly url: string
  close (): Promise<void>
}

/** Answers a request for a path other than `/metrics`; false when the path is not its own. */
export type OtherRoutes = (req: IncomingMessage, res: ServerResponse, path: string) => boolean

/** Listens on `host:port` and answers each scrape with `text()`; rejects with `NSZ_ERR_METRICS_BIND`. */
export async function serveMetrics (host: string, port: number, contentType: string, text: () => Promise<string>, log: (message: string) => void, other?: OtherRoutes): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? ''
    if (path !== '/metrics' && other?.(req, res, path) === true) return
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(req.method === 'GET' ? 404 : 405, { 'content-type': 'text/plain' }).end('only GET /metrics\n')
      return
    }
    text().then((body) => {
      res.writeHead(200, { 'content-type': contentType }).end(body)
    }, (err: unknown) => {
      log(`metrics: ${(err as Error).message}`)
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n')
    })
  })
  // A scrape holds no connection open between scrapes: an idle server keeps no socket.
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => { reject(metricsBindError(host, port, err)) })
    server.listen(port, host, () => { resolve() })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
