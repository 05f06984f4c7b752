/**
 * Jobs that wait on I/O, many at once in each worker: `concurrency`. Here each job
 * looks a word up in a slow store that answers after `LATENCY_MS` (it stands in for a
 * database or an HTTP service); while a job waits, its worker runs the others. Two
 * workers of 16 slots hold 32 such jobs at once, where one job per worker would hold
 * 2. The reply says how many jobs its worker ran at that moment.
 *
 *   node examples/io-server.js --port 6660,6661
 *   node examples/io-server.js --concurrency 64     # flags override the code's options
 *
 *   echo 'ziggurat' | zmq-client                    # ziggurat: 8 letters (1 of 16 slots busy)
 *
 * A job that keeps the CPU busy (a long synchronous loop) stalls every job of its
 * worker: keep `concurrency` at 1 for those, and let the pool's processes share the
 * cores (docs/zmq.md, "Concurrency").
 */
import { setTimeout as delay } from 'node:timers/promises'
import { ZmqServer } from '@net-server/zmq'

const LATENCY_MS = 200

/** The slow store: the answer comes after a wait, and costs the worker no CPU meanwhile. */
/** @param {string} word */
async function lookUp (word) {
  await delay(LATENCY_MS)
  return `${word}: ${[...word].length} letters`
}

/** Jobs running in this worker now: several at once with `concurrency` above 1. */
let running = 0

const server = new ZmqServer()

/** @param {Buffer} payload */
async function app (payload) {
  running++
  const busy = running
  try {
    return `${await lookUp(payload.toString().trim())} (${busy} of ${server.options.concurrency} slots busy)`
  } finally {
    running--
  }
}

server.on('listening', ([frontend, backend]) => {
  console.log(`listening frontend=${frontend} backend=${backend} concurrency=${server.options.concurrency}`)
})
// run()'s options rank below the command line: --concurrency 64 overrides the 16 here.
await server.run({ port: [6660, 6661], minServers: 2, concurrency: 16, app })
