/**
 * A command server, made the way the seed's users write one: by subclassing ZmqServer
 * and overriding `processRequest` itself. The first frame of each request names a
 * command, the other frames are its arguments, and each command chooses its reply's
 * status and frames:
 *
 *   words TEXT…             200, one frame per word
 *   hash ALGORITHM DATA…    200, one hex digest per DATA frame; 400 for an unknown algorithm
 *   pid                     200, the pid of the worker that answered
 *   anything else           400, with the list of commands
 *
 *   node examples/command-server.js --port 6660,6661
 *
 *   const client = new Client({ endpoint: 'tcp://127.0.0.1:6660' })
 *   await client.request('', ['words', 'to be or not'])     // 4 frames: to, be, or, not
 *   await client.request('', ['hash', 'md5', 'a', 'b'])     // 2 frames, one digest each
 *   await client.request('', ['nope'])                      // rejects: NSZ_ERR_CLIENT_MALFORMED, 400
 *
 * When to override `processRequest` rather than `decodeRequest` / `encodeReply` (as
 * json-server.js does): the codec hooks fit when each job is still one job function of
 * one payload and only the format changes. Override `processRequest` when the request
 * itself decides what runs and how it is answered: a dispatch on a frame or a header
 * instead of the service name (the broker routes by service; here every command is one
 * service, so any worker takes any command), a status chosen per request (400 for a
 * request the server cannot act on, not only 500 for a job that threw), or a reply built
 * from the request without a job function in between. An override replies exactly once
 * with `this.reply(request, status, frames)` (a second reply is ignored) and sets
 * `request.processed`, so that `postProcessRequest` tells a job that ran without a reply
 * (500) from one that was refused (403).
 *
 * The module's default export is the class, so `nsz serve examples/command-server.js`
 * serves it too.
 */
import { createHash, getHashes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Status } from '@net-server/client'
import { ZmqServer } from '@net-server/zmq'

/** @typedef {import('@net-server/zmq').ZmqRequest} ZmqRequest */
/** @typedef {{ status: number, body: string | Buffer | Buffer[] }} Answer */

/**
 * @param {string | Buffer | Buffer[]} body
 * @returns {Answer}
 */
const ok = (body) => ({ status: Status.OK, body })
/**
 * @param {string} message
 * @returns {Answer}
 */
const malformed = (message) => ({ status: Status.MALFORMED, body: message })

/**
 * The commands by name: each takes the argument frames and answers.
 *
 * @type {Record<string, (args: Buffer[]) => Answer>}
 */
export const COMMANDS = {
  words: (args) => {
    const words = args.flatMap((frame) => frame.toString().split(/\s+/)).filter((word) => word !== '')
    return words.length > 0 ? ok(words.map((word) => Buffer.from(word))) : malformed('usage: words TEXT…')
  },

  hash: ([algorithm, ...data]) => {
    if (algorithm === undefined || data.length === 0) return malformed('usage: hash ALGORITHM DATA…')
    const name = algorithm.toString()
    if (!getHashes().includes(name)) return malformed(`unknown hash algorithm '${name}'`)
    return ok(data.map((frame) => Buffer.from(createHash(name).update(frame).digest('hex'))))
  },

  pid: () => ok(String(process.pid))
}

/** A ZmqServer whose jobs are the commands above; it needs no `app`. */
export default class CommandServer extends ZmqServer {
  /**
   * Runs the command that the first frame names and replies with the status and frames
   * it chose. A command that throws is answered 500 with the error's message, as
   * ZmqServer's own `processRequest` answers a job function that throws.
   *
   * @override
   * @param {ZmqRequest} request
   */
  async processRequest (request) {
    request.processed = true
    const [first, ...args] = request.frames
    const name = first?.toString() ?? ''
    if (!Object.hasOwn(COMMANDS, name)) {
      this.reply(request, Status.MALFORMED, `unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`)
      return
    }
    let answer
    try {
      answer = COMMANDS[name](args)
    } catch (err) {
      this.log(1, `job ${request.job.id} (${name}) failed: ${err instanceof Error ? err.message : String(err)}`)
      this.reply(request, Status.APP_ERROR, await this.encodeError(err, request))
      return
    }
    this.reply(request, answer.status, answer.body)
  }
}

// Run only as a script: `nsz serve` imports this module for the class alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = new CommandServer()
  server.on('listening', ([frontend, backend]) => {
    console.log(`listening frontend=${frontend} backend=${backend} commands=${Object.keys(COMMANDS).join(',')}`)
  })
  await server.run({ port: [6660, 6661], minServers: 2 })
}
