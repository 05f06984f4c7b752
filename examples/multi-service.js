/**
 * Several services in one pool: `app` maps service names to job functions. Every
 * worker serves every service; a client names the service it wants, with the project's
 * `Client` or any MDP/0.1 client. Plain REQ clients, which cannot name one, get
 * `service` (here `upper`).
 *
 *   node examples/multi-service.js --port 6660,6661
 *
 * From code:
 *
 *   const client = new Client({ endpoint: 'tcp://127.0.0.1:6660' })
 *   await client.request('reverse', 'stressed')            // [<Buffer 'desserts'>]
 *   await client.request('math.sum', ['1', '2', '3.5'])    // [<Buffer '6.5'>]
 *
 *   const mdp = new LazyPirateClient({ endpoint: 'tcp://127.0.0.1:6660', service: 'math.sum' })
 *   await mdp.request(['40', '2'])                         // [<Buffer '42'>]
 */
import { ZmqServer } from '@net-server/zmq'
import uppercase from './uppercase.js'

/** @typedef {import('@net-server/zmq').JobFunction} JobFunction */

/** @param {Buffer | Buffer[]} payload */
const framesOf = (payload) => Buffer.isBuffer(payload) ? [payload] : payload

/** @type {Record<string, JobFunction>} */
const services = {
  upper: uppercase,

  /** The text reversed, by characters (not bytes). */
  reverse: (payload) => framesOf(payload).map((frame) => [...frame.toString()].reverse().join('')),

  /** The sum of one number per frame; anything else fails the job (status 500). */
  'math.sum': (payload) => {
    const numbers = framesOf(payload).map((frame) => Number(frame.toString()))
    if (numbers.length === 0 || numbers.some((n) => Number.isNaN(n))) throw new TypeError('math.sum takes one number per frame')
    return String(numbers.reduce((sum, n) => sum + n, 0))
  }
}

const server = new ZmqServer()
server.on('listening', ([frontend, backend]) => {
  console.log(`listening frontend=${frontend} backend=${backend} services=${Object.keys(services).join(',')}`)
})
await server.run({ port: [6660, 6661], minServers: 2, app: services, service: 'upper' })
