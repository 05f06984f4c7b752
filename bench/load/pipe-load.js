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
import { summarize } from '../lib/stats.js'

const now = () => performance.now()

function window (config) {
  const t0 = now()
  const warmEnd = t0 + config.warmup * 1000
  return { t0, warmEnd, end: warmEnd + config.seconds * 1000 }
}

async function dealerLoad (config) {
  const socket = new Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 })
  socket.connect(config.endpoint)
  const payload = Buffer.from(config.payload)
  const started = new Map()
  const latencies = []
  let seq = 0
  let ok = 0
  let inWindow = 0
  const send = async () => {
    const id = Buffer.alloc(4)
    id.writeUInt32BE(seq)
    started.set(seq++, now())
    await socket.send(['', id, payload])
  }
  process.send({ type: 'started' })
  const { warmEnd, end } = window(config)
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
      ok++
      // Throughput counts every reply inside the window: counting only requests also
      // sent inside it would drop one latency's worth of the window (10 % at 300 ms).
      if (finish >= warmEnd && finish <= end) {
        inWindow++
        if (start >= warmEnd) latencies.push(finish - start)
      }
      if (finish >= end) stopping = true
      if (!stopping) await send()
    }
  } finally {
    clearTimeout(drainTimer)
    if (!socket.closed) socket.close()
  }
  return result({ ok, failed: started.size, inWindow, latencies, config })
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
  const latencies = []
  const errors = {}
  let ok = 0
  let failed = 0
  let inWindow = 0
  process.send({ type: 'started' })
  const { warmEnd, end } = window(config)
  const loop = async () => {
    while (now() < end) {
      const start = now()
      try {
        const reply = await client.request('default', payload, { timeout: config.timeoutMs })
        // request() resolves with the reply's frames: one frame here.
        if (reply.length !== 1 || reply[0].toString('latin1') !== expected) throw new Error('wrong reply')
      } catch (error) {
        failed++
        const code = error?.code ?? error?.message ?? String(error)
        errors[code] = (errors[code] ?? 0) + 1
        continue
      }
      const finish = now()
      ok++
      // Throughput counts every reply inside the window: counting only requests also
      // sent inside it would drop one latency's worth of the window (10 % at 300 ms).
      if (finish >= warmEnd && finish <= end) {
        inWindow++
        if (start >= warmEnd) latencies.push(finish - start)
      }
    }
  }
  await Promise.all(Array.from({ length: config.inFlight }, loop))
  await client.close()
  return result({ ok, failed, errors, inWindow, latencies, config })
}

function result ({ ok, failed, errors = {}, inWindow, latencies, config }) {
  return {
    type: 'result',
    ok,
    failed,
    errors,
    counted: inWindow,
    windowSeconds: config.seconds,
    throughput: inWindow / config.seconds,
    latency: summarize(latencies)
  }
}

process.once('message', message => {
  const config = message.config
  const run = config.kind === 'client' ? clientLoad : dealerLoad
  run(config).then(
    result => process.send(result, () => process.exit(0)),
    error => process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1))
  )
})
