/**
 * Custom authentication by overriding `allowDenyHook`: each request carries a token in
 * its first frame (`TOKEN | payload…`). A job without a known token never reaches the
 * job function: `requestDeniedHook` answers it with status 403.
 *
 *   node examples/auth-server.js --port 6660,6661 --tokens alpha,beta
 *
 * The broker's own rules (`allow`, `deny`, `cidrAllow`, `cidrDeny`, CURVE keys) judge a
 * peer when it connects; this hook judges each job by its content, in the worker. A
 * JSON server would read the token from a field of the decoded request instead.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { Status } from '@net-server/client'
import { stringList } from '@net-server/core'
import { ZmqServer } from '@net-server/zmq'
import uppercase from './uppercase.js'

/** @typedef {import('@net-server/zmq').ZmqRequest} ZmqRequest */
/** @typedef {import('@net-server/zmq').ResolvedZmqServerOptions & { readonly tokens: readonly string[] }} AuthOptions */

/**
 * True when the two secrets are equal, in a time that does not tell how much of them matched.
 *
 * @param {string} expected
 * @param {Buffer} given
 */
function sameSecret (expected, given) {
  const digest = (/** @type {string | Buffer} */ s) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(expected), digest(given))
}

/** @extends {ZmqServer<AuthOptions>} */
class AuthServer extends ZmqServer {
  /**
   * ZmqServer's options plus `tokens` (`--tokens a,b` on the command line).
   *
   * @override
   */
  optionSpecs () {
    return {
      ...super.optionSpecs(),
      // A demo default so that the example runs as is: pass your own tokens.
      tokens: stringList({ description: 'tokens that admit a request (its first frame)', default: ['let-me-in'] })
    }
  }

  /**
   * Admits a job whose first frame is a known token and that has a payload after it.
   *
   * @override
   * @param {ZmqRequest} request
   */
  async allowDenyHook (request) {
    const [token, ...payload] = request.frames
    return token !== undefined && payload.length > 0 && this.options.tokens.some((t) => sameSecret(t, token))
  }

  /**
   * Runs instead of `processRequest` for a refused job: log it and say why. (Without a
   * reply here, `postProcessRequest` would answer 403 `denied`.)
   *
   * @override
   * @param {ZmqRequest} request
   */
  async requestDeniedHook (request) {
    this.log(1, `job ${request.job.id} refused: no valid token`)
    this.reply(request, Status.DENIED, 'a valid token must come first: TOKEN | payload')
  }

  /**
   * The job function gets the payload without the token.
   *
   * @override
   * @param {ZmqRequest} request
   */
  async decodeRequest (request) {
    const payload = request.frames.slice(1)
    return payload.length === 1 ? payload[0] : payload
  }
}

const server = new AuthServer()
server.on('listening', ([frontend, backend]) => {
  console.log(`listening frontend=${frontend} backend=${backend}`)
})
await server.run({ port: [6660, 6661], minServers: 2, app: uppercase })
