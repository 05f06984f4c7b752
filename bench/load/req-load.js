/**
 * Load generator with plain REQ clients (one zeromq.js `Request` socket each), run as
 * a child process of the harness so that the load never shares an event loop with the
 * server it measures. It takes its configuration in a `start` IPC message and answers
 * one `result` message:
 *
 * - `endpoint`, `clients`: where and how many REQ sockets;
 * - `seconds` + `warmup` (time mode: only requests sent after the warm-up and answered
 *   before the end count), or `count` (count mode: exactly that many requests, all count);
 * - `payload` (a string), or `mix: { long: fraction }` for the `short`/`long` fairness jobs;
 * - `verify`: `upper` (reply = upper-cased payload) or `upper-pid` (same, then a pid);
 * - `collect`: `timeline` (each job's send, start, end, reply times and worker) or
 *   `number` (mean of the numeric replies);
 * - `timeoutMs`: a request with no reply by then fails, and its socket is replaced.
 */
import { Request } from 'zeromq'
import { performance } from 'node:perf_hooks'
import { LoadWindow } from '../lib/load-window.js'
import { summarize } from '../lib/stats.js'

const now = () => performance.now()
const wall = () => performance.timeOrigin + performance.now()

async function main (config) {
  const { endpoint, clients, timeoutMs = 10_000 } = config
  const countMode = typeof config.count === 'number'
  const errors = {}
  const pids = {}
  const timeline = []
  let numberSum = 0
  let numberCount = 0
  let sent = 0
  let stop = false
  let seed = 12345
  const random = () => {
    // A fixed-seed linear congruential generator: the same job mix on every run.
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x80000000
  }

  const makeSocket = () => {
    const socket = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs })
    socket.connect(endpoint)
    return socket
  }

  const window = countMode ? new LoadWindow(0, Infinity) : new LoadWindow(config.warmup ?? 0, config.seconds)
  const { start: t0, warmEnd, end } = window
  let lastReply = t0
  const timer = countMode
    ? setTimeout(() => { stop = true }, (config.maxSeconds ?? 600) * 1000)
    : setTimeout(() => { stop = true }, end - t0)

  const fail = (error) => {
    window.failed++
    const code = error?.code ?? error?.message ?? String(error)
    errors[code] = (errors[code] ?? 0) + 1
  }

  const more = () => !stop && (!countMode || sent < config.count)

  const client = async () => {
    let socket = makeSocket()
    while (more()) {
      sent++
      const kind = config.mix ? (random() < config.mix.long ? 'long' : 'short') : undefined
      const payload = kind ?? config.payload
      const sendWall = wall()
      const start = now()
      let reply
      try {
        await socket.send(payload)
        const [frame] = await socket.receive()
        reply = frame.toString('latin1')
      } catch (error) {
        fail(error)
        socket.close()
        socket = makeSocket()
        continue
      }
      const finish = now()
      lastReply = finish
      if (config.verify) {
        const expected = payload.toUpperCase()
        const good = config.verify === 'upper'
          ? reply === expected
          : reply.startsWith(expected + ' ')
        if (!good) {
          // A status the broker picked (`ERROR 502 worker lost`) is worth telling apart.
          fail(new Error(reply.startsWith('ERROR ') ? `wrong reply: ${reply.slice(0, 60)}` : 'wrong reply'))
          continue
        }
        if (config.verify === 'upper-pid') {
          const pid = reply.slice(expected.length + 1)
          const at = Math.round(finish - t0)
          const seen = pids[pid] ??= { first: at, last: at, n: 0 }
          seen.last = at
          seen.n++
        }
      }
      if (config.collect === 'timeline') {
        const job = JSON.parse(reply)
        timeline.push({ kind, judged: start >= warmEnd, send: sendWall, start: job.start, end: job.end, reply: wall(), pid: job.pid })
      } else if (config.collect === 'number') {
        numberSum += Number(reply)
        numberCount++
      }
      window.reply(start, finish)
    }
    socket.close()
  }

  process.send({ type: 'started' })
  await Promise.all(Array.from({ length: clients }, client))
  clearTimeout(timer)
  const windowMs = countMode ? lastReply - t0 : end - warmEnd
  return {
    type: 'result',
    sent,
    ok: window.ok,
    failed: window.failed,
    errors,
    counted: window.inWindow,
    windowSeconds: windowMs / 1000,
    throughput: window.inWindow / (windowMs / 1000),
    latency: summarize(window.latencies),
    pids: config.verify === 'upper-pid' ? pids : undefined,
    timeline: config.collect === 'timeline' ? timeline : undefined,
    meanNumber: numberCount ? numberSum / numberCount : undefined
  }
}

process.once('message', message => {
  main(message.config).then(
    result => process.send(result, () => process.exit(0)),
    error => process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1))
  )
})
