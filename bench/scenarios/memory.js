/**
 * `memory`: resident memory (VmRSS) of the broker and its 4 workers when idle, the
 * broker after the first 1000 jobs, and all of them after `BENCH_MEMORY_JOBS`
 * (100 000 by default) 64-byte upper-case jobs from 16 REQ clients.
 */
import { PAYLOAD_64 } from '../lib/measure.js'
import { defineScenario } from '../lib/scenario.js'
import { descendants, rssMiB } from '../lib/system.js'
import { round } from '../lib/stats.js'

const WORKERS = 4
const CLIENTS = 16
const FIRST = 1000

function snapshot (brokerPid) {
  const children = descendants(brokerPid).map(rssMiB).filter(v => v !== undefined)
  return {
    brokerMiB: round(rssMiB(brokerPid)),
    workersMiB: round(children.reduce((a, b) => a + b, 0)),
    workerCount: children.length
  }
}

export default defineScenario({
  name: 'memory',
  description: 'RSS of broker and workers idle, after 1000 jobs and after 100 000 jobs',
  async measure (stage) {
    const total = stage.config.memoryJobs
    return stage.withServer({ appName: 'uppercase', workers: WORKERS }, async server => {
      const jobs = count => stage.load('req-load', {
        endpoint: server.frontend, clients: CLIENTS, payload: PAYLOAD_64, verify: 'upper', count, maxSeconds: 300
      })
      const idle = snapshot(server.pid)
      stage.log(`  idle: broker ${idle.brokerMiB} MiB, ${idle.workerCount} workers ${idle.workersMiB} MiB`)
      const first = await jobs(FIRST)
      const afterFirst = snapshot(server.pid)
      stage.log(`  after ${FIRST} jobs: broker ${afterFirst.brokerMiB} MiB`)
      const rest = await jobs(total - FIRST)
      const afterAll = snapshot(server.pid)
      stage.log(`  after ${total} jobs: broker ${afterAll.brokerMiB} MiB, workers ${afterAll.workersMiB} MiB`)
      const growth = afterAll.brokerMiB / afterFirst.brokerMiB
      const failed = first.failed + rest.failed
      stage.point({
        scenario: 'memory',
        system: 'nsz',
        key: `${total} jobs`,
        status: 'ok',
        workers: WORKERS,
        clients: CLIENTS,
        throughput: round(rest.throughput),
        failed,
        brokerIdleMiB: idle.brokerMiB,
        brokerAfterFirstMiB: afterFirst.brokerMiB,
        brokerAfterAllMiB: afterAll.brokerMiB,
        workersIdleMiB: idle.workersMiB,
        workersAfterAllMiB: afterAll.workersMiB,
        brokerGrowth: round(growth)
      })
      return { jobs: total, idle, afterFirst, afterAll, brokerGrowth: round(growth), failed }
    }, [[`${total} jobs`, { workers: WORKERS }]])
  }
})
