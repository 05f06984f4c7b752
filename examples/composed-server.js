/**
 * A server composed of parts, wired through the tsyringe container: a ZmqServer (the
 * broker and its workers) and an HTTP front, in the broker process, that forwards each
 * HTTP request to the pool through the project's `Client`. The container carries the
 * infrastructure the parts share: here a logger of our own, which the broker, every
 * worker and the HTTP front write to.
 *
 *   node examples/composed-server.js --port 6660,6661 --http-port 8080
 *   curl --data 'hello' http://127.0.0.1:8080/          # HELLO
 *
 * ZeroMQ clients still reach the pool on the frontend port, next to the HTTP ones.
 */
import http from 'node:http'
import { Client, ClientErrorCode, isClientError } from '@net-server/client'
import { LOG_LEVEL_NAMES, LOGGER, createContainer, integer } from '@net-server/core'
import { ZmqServer, connectable } from '@net-server/zmq'
import uppercase from './uppercase.js'

/** @typedef {import('@net-server/core').Logger} Logger */
/** @typedef {import('@net-server/core').LogLevel} LogLevel */
/** @typedef {import('@net-server/zmq').ResolvedZmqServerOptions & { readonly httpPort: number }} ComposedOptions */

/**
 * A {@link Logger} that writes plain lines, `composed[pid] level: message`, instead of
 * the default JSON lines.
 *
 * @implements {Logger}
 */
class LineLogger {
  /**
   * @param {LogLevel} level
   * @param {string} message
   */
  write (level, message) {
    process.stderr.write(`composed[${process.pid}] ${LOG_LEVEL_NAMES[level]}: ${message}\n`)
  }
}

/**
 * HTTP in front of the pool: `POST /<service>` (`/` for the default service) with the
 * payload as the body. The reply body comes back with status 200, a failure with the
 * status the pool answered (404, 500, 503, 504 …) and its message. Its dependencies
 * come in through the constructor, so it knows nothing of the server around it.
 */
class HttpFront {
  #client
  #log
  #maxBody
  #closing = false
  #server = http.createServer((req, res) => {
    this.#handle(req, res).catch((err) => {
      this.#log(1, `${req.method} ${req.url} failed: ${err}`)
      res.destroy()
    })
  })

  /**
   * @param {Client} client - where the jobs go
   * @param {(level: LogLevel, message: string) => void} log
   * @param {number} maxBody - the largest body accepted, in bytes (larger: 413)
   */
  constructor (client, log, maxBody) {
    this.#client = client
    this.#log = log
    this.#maxBody = maxBody
  }

  /**
   * Listens and resolves with the URL.
   *
   * @param {number} port - 0 picks a free port
   * @param {string} host
   * @returns {Promise<string>}
   */
  async listen (port, host) {
    await new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, host, () => { resolve(undefined) })
    })
    const address = /** @type {import('node:net').AddressInfo} */ (this.#server.address())
    return `http://${host}:${address.port}`
  }

  /**
   * Stops taking requests. Graceful: the ones in flight finish. Fast: they are answered
   * 503 at once, as the broker answers its own clients.
   *
   * @param {boolean} graceful
   */
  async close (graceful) {
    this.#closing = true
    const closed = new Promise((resolve) => { this.#server.close(() => { resolve(undefined) }) })
    if (!graceful) this.#client.close()
    await closed
    this.#client.close()
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async #handle (req, res) {
    const answer = (/** @type {number} */ status, /** @type {string | Buffer} */ body) => {
      // While closing, no connection is kept alive for a next request.
      if (this.#closing) res.setHeader('connection', 'close')
      res.writeHead(status, { 'content-type': status === 200 ? 'application/octet-stream' : 'text/plain' }).end(body)
      this.#log(3, `${req.method} ${req.url} ${status}`)
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return answer(405, 'POST the payload to /<service>\n')
    }
    let service
    try {
      service = decodeURIComponent(new URL(req.url ?? '/', 'http://front').pathname.slice(1))
    } catch {
      return answer(400, 'the path must name a service: /<service>\n')
    }
    /** @type {Buffer[]} */
    const chunks = []
    let size = 0
    for await (const chunk of req) {
      // Past the limit the rest is read and dropped, so that the 413 reaches the client.
      size += chunk.length
      if (size <= this.#maxBody) chunks.push(chunk)
    }
    if (size > this.#maxBody) return answer(413, `the body is larger than ${this.#maxBody} bytes\n`)
    try {
      const reply = await this.#client.request(service, Buffer.concat(chunks))
      answer(200, Buffer.concat(reply))
    } catch (err) {
      if (!isClientError(err)) return answer(502, `${String(err)}\n`)
      const status = err.status ?? (err.code === ClientErrorCode.TIMEOUT ? 504 : 503)
      answer(status, `${err.detail ?? err.message}\n`)
    }
  }
}

/** @extends {ZmqServer<ComposedOptions>} */
class ComposedServer extends ZmqServer {
  /** @type {HttpFront | undefined} */
  #front

  /**
   * ZmqServer's options plus `httpPort` (`--http-port`).
   *
   * @override
   */
  optionSpecs () {
    return {
      ...super.optionSpecs(),
      httpPort: integer({ description: 'port of the HTTP front (0 picks a free port)', default: 8080, min: 0, max: 65535 })
    }
  }

  /**
   * Runs in the broker only, once its sockets are bound and before the pool starts: the
   * front connects its client to the frontend just bound. Its log lines go through the
   * server's logger, the one the container holds.
   *
   * @override
   */
  async preLoopHook () {
    const [frontend = '', backend = ''] = this.endpoints
    const client = new Client({ endpoint: connectable(frontend), timeout: 30_000, retries: 0 })
    this.#front = new HttpFront(client, (level, message) => { this.log(level, `http: ${message}`) }, this.options.maxMessageSize)
    const url = await this.#front.listen(this.options.httpPort, this.options.host)
    console.log(`listening frontend=${frontend} backend=${backend} http=${url}`)
  }

  /**
   * The front stops first, so that no HTTP request comes in for a pool that is going away.
   *
   * @override
   * @param {boolean} graceful
   */
  async stopLoop (graceful) {
    await this.#front?.close(graceful)
    await super.stopLoop(graceful)
  }
}

// One container per server: register what replaces a default, then hand it over.
const container = createContainer()
container.register(LOGGER, { useValue: new LineLogger() })

await new ComposedServer({}, container).run({ port: [6660, 6661], minServers: 2, app: uppercase })
