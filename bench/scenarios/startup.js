/**
 * `startup`: (a) the time from spawning `nsz serve` with 5 workers until its ready line,
 * until all 5 workers serve, and the time SIGTERM takes to stop it; (b) a rolling
 * restart (SIGHUP) under the load of 16 REQ clients: every request must succeed, and the
 * old workers must all have been replaced by the end of the load.
 */
import { performance } from 'node:perf_hooks'
import { PAYLOAD_64 } from '../lib/measure.js'
import { defineScenario } from '../lib/scenario.js'
import { startServer, waitForWorkers } from '../lib/servers.js'
import { descendants } from '../lib/system.js'
import { round } from '../lib/stats.js'

const WORKERS = 5
const CLIENTS = 16
const HUP_AFTER_MS = 1000

/** (a): the start-up and the stop are what it measures, so it starts the server itself. */
async function timeToReady (stage) {
  stage.log(`  starting nsz serve with ${WORKERS} workers`)
  const server = await startServer({ appName: 'uppercase', workers: WORKERS })
  let ready
  try {
    const workers = await waitForWorkers(server.frontend, WORKERS)
    ready = { readyMs: round(server.readyMs), allWorkersMs: round(server.readyMs + workers.ms) }
  } finally {
    const t = performance.now()
    await server.stop()
    if (ready) ready.stopMs = round(performance.now() - t)
  }
  stage.point({ scenario: 'startup', system: 'nsz', key: 'ready', status: 'ok', workers: WORKERS, ...ready })
  return ready
}

/** (b): SIGHUP once the load runs; which workers answered before and after it. */
async function roll (stage, server) {
  const oldPids = new Set(server.workerPids.map(String))
  let hupAt
  const result = await stage.load('req-load', {
    endpoint: server.frontend, clients: CLIENTS, payload: PAYLOAD_64, verify: 'upper-pid', seconds: stage.config.rollSeconds, warmup: 0
  }, {
    onStarted: () => setTimeout(() => {
      hupAt = HUP_AFTER_MS
      stage.log('  SIGHUP (rolling restart) under load')
      process.kill(server.pid, 'SIGHUP')
    }, HUP_AFTER_MS)
  })
  const seen = Object.entries(result.pids ?? {})
  const newPids = seen.filter(([pid]) => !oldPids.has(pid))
  const lastOld = Math.max(0, ...seen.filter(([pid]) => oldPids.has(pid)).map(([, s]) => s.last))
  const firstNew = Math.min(Infinity, ...newPids.map(([, s]) => s.first))
  const remainingOld = descendants(server.pid).filter(pid => oldPids.has(String(pid)))
  const rolled = hupAt !== undefined && newPids.length >= WORKERS && remainingOld.length === 0
  stage.record('nsz', 'hup roll', result, { workers: WORKERS, clients: CLIENTS, rolled })
  return {
    hupAtMs: hupAt,
    failed: result.failed,
    errors: result.errors,
    oldWorkers: oldPids.size,
    newWorkersServing: newPids.length,
    firstNewReplyMs: Number.isFinite(firstNew) ? firstNew : undefined,
    lastOldReplyMs: lastOld || undefined,
    oldWorkersLeft: remainingOld.length,
    rolled
  }
}

export default defineScenario({
  name: 'startup',
  description: 'time to ready with 5 workers; a SIGHUP rolling restart under load (failed requests)',
  async measure (stage) {
    if (!stage.serverBuilt([['ready', { workers: WORKERS }], ['hup roll', { workers: WORKERS, clients: CLIENTS }]])) return
    const ready = await timeToReady(stage)
    const metrics = await stage.withServer({ appName: 'upper-pid', workers: WORKERS }, server => roll(stage, server))
    return { ...ready, roll: metrics }
  }
})
