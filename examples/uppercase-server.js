/**
 * The seed's synopsis as a script: a broker on ports 6660 (clients) and 6661
 * (workers), with five to ten worker processes that upper-case each request.
 *
 *   node examples/uppercase-server.js                       # ports 6660 and 6661
 *   node examples/uppercase-server.js --port 0,0 --min-servers 2
 *
 * Flags on the command line override the `run()` options below, as in Net::Server.
 * `await ZmqServer.run({ ... })` does the same in one line; the instance is kept here
 * only to print the endpoints once they are bound.
 */
import { ZmqServer } from '@net-server/zmq'
import uppercase from './uppercase.js'

const server = new ZmqServer()

// Runs in the broker (the parent) once both sockets are bound; workers never bind.
server.on('listening', ([frontend, backend]) => {
  console.log(`listening frontend=${frontend} backend=${backend}`)
})

await server.run({
  port: [6660, 6661], // [frontend port, backend port]
  minServers: 5,
  maxServers: 10,
  app: uppercase // this is your worker code
})
