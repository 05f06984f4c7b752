/**
 * Baseline (a): a direct zeromq.js ROUTER echo with no broker and no workers, the
 * floor that the binding itself sets. It answers every message with its own frames
 * and prints the same kind of ready line as the job server.
 */
import { Router } from 'zeromq'

const router = new Router({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 })
await router.bind('tcp://127.0.0.1:*')
process.stdout.write(`listening frontend=${router.lastEndpoint}\n`)
process.once('SIGTERM', () => router.close())
try {
  for await (const message of router) await router.send(message)
} catch (error) {
  if (!router.closed) throw error
}
