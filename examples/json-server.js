/**
 * A JSON job server, made by subclassing ZmqServer: requests and replies are JSON
 * documents, and a failed job answers status 500 with a JSON body. The job function
 * itself only sees and returns plain values.
 *
 *   node examples/json-server.js --port 6660,6661
 *   node examples/json-client.js tcp://127.0.0.1:6660      # the client side
 *
 * The module's default export is the class, so `nsz serve examples/json-server.js`
 * serves it too.
 */
import { pathToFileURL } from 'node:url'
import { Status } from '@net-server/client'
import { ZmqServer } from '@net-server/zmq'

/** @typedef {import('@net-server/zmq').ZmqRequest} ZmqRequest */

/**
 * The job: `{ "name": "Ada" }` in, a greeting out. A throw becomes a 500 reply.
 *
 * @param {unknown} request - the decoded JSON value
 * @returns {{ greeting: string, worker: number }}
 */
export function greet (request) {
  const name = typeof request === 'object' && request !== null ? /** @type {{ name?: unknown }} */ (request).name : undefined
  if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string')
  return { greeting: `Hello, ${name}!`, worker: process.pid }
}

/** @param {unknown} value */
const json = (value) => Buffer.from(JSON.stringify(value))

/** A ZmqServer that speaks JSON; `greet` is its job unless `app` says otherwise. */
export default class JsonServer extends ZmqServer {
  /**
   * @param {import('@net-server/zmq').ZmqServerOptions} [options]
   * @param {ConstructorParameters<typeof ZmqServer>[1]} [container]
   */
  constructor (options = {}, container) {
    super({ app: greet, ...options }, container)
  }

  /**
   * The request's frames, joined, parsed as JSON. A body that is not JSON is answered
   * 400 here; the 500 that `processRequest` then sends for the throw is ignored, since
   * a job is answered only once.
   *
   * @override
   * @param {ZmqRequest} request
   */
  async decodeRequest (request) {
    try {
      return JSON.parse(Buffer.concat(request.frames).toString())
    } catch (err) {
      this.reply(request, Status.MALFORMED, json({ error: `request is not JSON: ${/** @type {Error} */ (err).message}` }))
      throw err
    }
  }

  /**
   * The job's result as one JSON frame (`undefined` becomes `null`).
   *
   * @override
   * @param {unknown} result
   */
  async encodeReply (result) {
    return [json(result ?? null)]
  }

  /**
   * The body of a 500 reply: `{ "error": message }`.
   *
   * @override
   * @param {unknown} error
   */
  async encodeError (error) {
    return [json({ error: error instanceof Error ? error.message : String(error) })]
  }
}

// Run only as a script: `nsz serve` imports this module for the class alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = new JsonServer()
  server.on('listening', ([frontend, backend]) => {
    console.log(`listening frontend=${frontend} backend=${backend}`)
  })
  await server.run({ port: [6660, 6661], minServers: 2 })
}
