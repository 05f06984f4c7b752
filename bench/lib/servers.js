/**
 * Starting the servers under test: the job server (`nsz serve`) and the direct
 * ROUTER echo baseline, each in its own process group, on loopback ports they pick.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Request } from 'zeromq'
import { spawnTracked, stopProcess, tail, waitForLine } from './procs.js'
import { PROBE } from './probe-job.js'

export const benchDir = fileURLToPath(new URL('..', import.meta.url))
export const rootDir = resolve(benchDir, '..')

/** The built `nsz` command; `BENCH_NSZ` points at another build. */
export const nszPath = process.env.BENCH_NSZ
  ? resolve(process.env.BENCH_NSZ)
  : resolve(rootDir, 'packages/zmq-personality/dist/bin/nsz.js')

/**
 * Extra Node flags for `nsz serve` (and so for its workers, which inherit them), from
 * `BENCH_NODE_ARGS`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a point.
 */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)

/** Why the job server cannot be measured, or undefined when it can. */
export function serverMissing () {
  return existsSync(nszPath) ? undefined : 'server not built'
}

/** The path of a benchmark app module. */
export const app = name => resolve(benchDir, 'apps', `${name}.js`)

/**
 * Starts `nsz serve` with `workers` workers (min = max) and resolves once it has
 * printed its ready line, with its endpoints and how long that took.
 *
 * `maxRequests` is 0 unless a scenario asks otherwise (as `nsz serve`'s default): 1000 replaces
 * each worker (a new Node process) every 1000 jobs, which at thousands of jobs per
 * second would measure process start-up on the shared cores, not the message path.
 */
export async function startServer ({ appName, workers, maxRequests = 0, args = [], readyTimeoutMs = 30_000 }) {
  const started = performance.now()
  const child = spawnTracked(process.execPath, [
    ...nodeArgs,
    nszPath, 'serve',
    '--port', '0,0',
    '--host', '127.0.0.1',
    '--min-servers', String(workers),
    '--max-servers', String(workers),
    '--max-requests', String(maxRequests),
    '--log-level', '1',
    ...args,
    app(appName)
  ], { cwd: rootDir })
  const errors = tail(child.stderr); if (process.env.NSZ_DBG) child.stderr.on('data', d => process.stderr.write(d))
  const output = tail(child.stdout)
  try {
    const match = await waitForLine(child, child.stdout,
      /listening frontend=(tcp:\/\/[^\s]+) backend=(tcp:\/\/[^\s]+)/, readyTimeoutMs, 'nsz serve')
    return {
      child,
      pid: child.pid,
      frontend: match[1],
      backend: match[2],
      readyMs: performance.now() - started,
      stop: options => stopProcess(child, options)
    }
  } catch (error) {
    await stopProcess(child, { signal: 'SIGKILL' })
    error.message += `\n${[...output, ...errors].join('\n')}`
    throw error
  }
}

/** Starts the direct ROUTER echo baseline. */
export async function startEcho () {
  const child = spawnTracked(process.execPath, [resolve(benchDir, 'baselines/echo-server.js')], { cwd: benchDir })
  const errors = tail(child.stderr)
  try {
    const match = await waitForLine(child, child.stdout, /listening frontend=(tcp:\/\/[^\s]+)/, 10_000, 'echo server')
    return { child, pid: child.pid, frontend: match[1], stop: options => stopProcess(child, options) }
  } catch (error) {
    await stopProcess(child, { signal: 'SIGKILL' })
    error.message += `\n${errors.join('\n')}`
    throw error
  }
}

/**
 * Resolves when `count` distinct workers answer one round of `count` concurrent pid
 * probes (each probe holds its worker, so the round spreads over the pool), and with
 * the milliseconds from the call until the round that succeeded was sent. Rounds
 * repeat until then, each one waiting for its replies; rejects after `timeoutMs`.
 */
export async function waitForWorkers (endpoint, count, timeoutMs = 30_000) {
  const t0 = performance.now()
  const deadline = t0 + timeoutMs
  const sockets = Array.from({ length: count }, () => {
    const socket = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs })
    socket.connect(endpoint)
    return socket
  })
  try {
    while (performance.now() < deadline) {
      const sentAt = performance.now()
      const replies = await Promise.all(sockets.map(async socket => {
        await socket.send(PROBE)
        const [reply] = await socket.receive()
        return reply.toString()
      }))
      const pids = new Set(replies.filter(r => r.startsWith('pid ')).map(r => Number(r.slice(4))))
      if (pids.size >= count) return { ms: sentAt - t0, pids: [...pids] }
    }
    throw new Error(`${count} workers did not all answer within ${timeoutMs} ms`)
  } finally {
    for (const socket of sockets) socket.close()
  }
}
