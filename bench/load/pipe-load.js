/**
 * Pipelined load generator, run as a child process of the harness. It keeps
 * `inFlight` requests outstanding on one connection for `warmup` + `seconds` and
 * answers one `result` IPC message (or `skip` when the client cannot be loaded):
 *
 * - `kind: 'dealer'`: a zeromq.js `Dealer` against the direct ROUTER echo; each
 *   request is `'' | seq | payload` and the echo sends it back as it is;
 * - `kind: 'client'`: the project's pipelined `Client` (`@net-server/client`) against
 *   the job server's `default` service; replies must be the upper-cased payload.
 */
import { Dealer } from 'zeromq'
import { performance } from 'node:perf_hooks'
import { LoadWindow } from '../lib/load-window.js'

const now = () => performance.now()

async function dealerLoad (config) {
  const socket = new Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 })
  socket.connect(config.endpoint)
  const payload = Buffer.from(config.payload)
  const started = new Map()
  let seq = 0
  const send = async () => {
    const id = Buffer.alloc(4)
    id.writeUInt32BE(seq)
    started.set(seq++, now())
    await socket.send(['', id, payload])
  }
  process.send({ type: 'started' })
  const window = new LoadWindow(config.warmup, config.seconds)
  for (let i = 0; i < config.inFlight; i++) await send()
  let stopping = false
  const drainTimer = setTimeout(() => socket.close(), (config.warmup + config.seconds) * 1000 + config.timeoutMs)
  try {
    while (started.size > 0) {
      const [, id, body] = await socket.receive()
      const finish = now()
      const key = id.readUInt32BE()
      const start = started.get(key)
      started.delete(key)
      if (start === undefined || !body.equals(payload)) throw new Error('the echo answered something else')
      window.reply(start, finish)
      if (finish >= window.end) stopping = true
      if (!stopping) await send()
    }
  } finally {
    clearTimeout(drainTimer)
    if (!socket.closed) socket.close()
  }
  window.failed = started.size
  return window.result({ errors: {} })
}

async function clientLoad (config) {
  let Client
  try {
    ({ Client } = await import('@net-server/client'))
  } catch (error) {
    return { type: 'skip', reason: `@net-server/client cannot be loaded (${error.code ?? error.message}): build it with pnpm build` }
  }
  if (typeof Client !== 'function') {
    return { type: 'skip', reason: '@net-server/client has no Client export yet' }
  }
  const client = new Client({ endpoint: config.endpoint, maxInFlight: config.inFlight })
  const expected = config.payload.toUpperCase()
  const payload = Buffer.from(config.payload)
  const errors = {}
  process.send({ type: 'started' })
  const window = new LoadWindow(config.warmup, config.seconds)
  await window.loops(config.inFlight, async () => {
    const reply = await client.request('default', payload, { timeout: config.timeoutMs })
    // request() resolves with the reply's frames: one frame here.
    if (reply.length !== 1 || reply[0].toString('latin1') !== expected) throw new Error('wrong reply')
  }, error => {
    const code = error?.code ?? error?.message ?? String(error)
    errors[code] = (errors[code] ?? 0) + 1
  })
  await client.close()
  return window.result({ errors })
}

process.once('message', message => {
  const config = message.config
  const run = config.kind === 'client' ? clientLoad : dealerLoad
  run(config).then(
    result => process.send(result, () => process.exit(0)),
    error => process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1))
  )
})
