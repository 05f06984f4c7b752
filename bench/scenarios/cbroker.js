/**
 * `cbroker`: the job server beside a least-recently-used broker written in C on libzmq
 * (baselines/c-broker.c), same topology: 4 forked workers that upper-case 64-byte
 * payloads, 16 REQ clients, then 1 client. The two systems run in alternated rounds
 * (`BENCH_CBROKER_ROUNDS`, 3 by default; the first system of a round alternates too),
 * and each point reports the median of the rounds: throughput, p50, p99 and the CPU per
 * job of the broker process, of its workers together, and of both; the scenario's details
 * split the CPU of each side by thread (the main thread, libzmq's I/O threads, the rest).
 * The C broker's points are skipped with the reason when it cannot be built.
 */
import os from 'node:os'
import { buildCBroker, startCBroker } from '../lib/cbroker.js'
import { loadWithCpu } from '../lib/cpu.js'
import { PAYLOAD_64, row } from '../lib/measure.js'
import { defineScenario } from '../lib/scenario.js'
import { round } from '../lib/stats.js'

const WORKERS = 4
const CLIENTS = [16, 1]
const MEDIANS = ['throughput', 'p50', 'p99', 'cpuBrokerUs', 'cpuWorkersUs', 'cpuTotalUs']
const SUMS = ['ok', 'failed']

const median = values => {
  const sorted = values.filter(v => typeof v === 'number').sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : round((sorted[mid - 1] + sorted[mid]) / 2)
}

const loadAverage = () => os.loadavg().map(v => Number(v.toFixed(2)))

/** One round of one system: every client count against the broker at `pid` and `endpoint`. */
async function measureRound (stage, system, { pid, frontend }, samples) {
  for (const clients of CLIENTS) {
    const { result, cpu } = await loadWithCpu(stage, pid, 'req-load', { endpoint: frontend, clients, payload: PAYLOAD_64, verify: 'upper' })
    const r = row('cbroker', system, `c=${clients}`, result, cpu)
    samples[system][r.key].push(r)
    const split = side => ['main', 'zmq', 'other'].map(kind => r.cpuThreadsUs?.[`${side} ${kind}`] ?? '-').join('/')
    stage.log(`    ${system.padEnd(7)} c=${String(clients).padEnd(2)} ${r.throughput}/s p50 ${r.p50} ms p99 ${r.p99} ms, CPU per job (main/zmq/other threads): broker ${r.cpuBrokerUs} us (${split('broker')}), workers ${r.cpuWorkersUs} us (${split('workers')}), total ${r.cpuTotalUs} us${r.failed ? `, failed ${r.failed}` : ''}`)
  }
}

/** The median over `rounds` of each thread kind's CPU per job (see `used` in lib/cpu.js). */
function threadMedians (rounds) {
  const kinds = [...new Set(rounds.flatMap(r => Object.keys(r.cpuThreadsUs ?? {})))].sort()
  return Object.fromEntries(kinds.map(kind => [kind, median(rounds.map(r => r.cpuThreadsUs?.[kind]))]))
}

/** The median point of the rounds of `system` at `key` (the split by thread goes to the scenario's details). */
function medianPoint (system, key, rounds) {
  const point = { scenario: 'cbroker', system, key, status: 'ok', clients: rounds[0].clients, workers: WORKERS, rounds: rounds.length }
  for (const field of MEDIANS) point[field] = median(rounds.map(r => r[field]))
  for (const field of SUMS) point[field] = rounds.reduce((sum, r) => sum + (r[field] ?? 0), 0)
  point.cpuSource = rounds[0].cpuSource
  point.cpuProcesses = rounds[0].cpuProcesses
  return point
}

export default defineScenario({
  name: 'cbroker',
  description: '64-byte upper-case jobs, 4 workers, 16 and 1 REQ clients, beside a C broker on libzmq (alternated rounds, CPU per job)',
  async measure (stage) {
    const rounds = Math.max(1, stage.config.cbrokerRounds ?? 3)
    const keys = CLIENTS.map(clients => [`c=${clients}`, { clients, workers: WORKERS }])
    const systems = []
    if (stage.serverBuilt(keys)) systems.push('nsz')
    let build
    try {
      build = await buildCBroker(stage.log.bind(stage))
      systems.push('cbroker')
    } catch (error) {
      stage.log(`  C broker skipped: ${error.message}`)
      for (const [key, extra] of keys) stage.skip('cbroker', key, error.message, extra)
    }
    const samples = { nsz: {}, cbroker: {} }
    for (const system of systems) for (const [key] of keys) samples[system][key] = []
    const loadBefore = loadAverage()
    stage.log(`  load average ${loadBefore.join(' ')}`)
    const start = {
      nsz: fn => stage.withServer({ appName: 'uppercase', workers: WORKERS }, fn),
      cbroker: fn => stage.using(() => startCBroker({ binary: build.binary, workers: WORKERS }), fn)
    }
    for (let i = 0; i < rounds; i++) {
      stage.log(`  round ${i + 1} of ${rounds}`)
      const order = i % 2 === 0 ? systems : [...systems].reverse()
      for (const system of order) await start[system](broker => measureRound(stage, system, broker, samples))
    }
    for (const system of systems) {
      for (const [key] of keys) stage.point(medianPoint(system, key, samples[system][key]))
    }
    // Each round's ratios of the job server to the C broker, beside the ratios of the medians that the targets judge.
    const ratios = key => samples.nsz[key] && samples.cbroker[key]
      ? samples.nsz[key].map((r, i) => ({
        throughput: round(r.throughput / samples.cbroker[key][i].throughput),
        p50: round(r.p50 / samples.cbroker[key][i].p50),
        cpuTotal: round(r.cpuTotalUs / samples.cbroker[key][i].cpuTotalUs)
      }))
      : undefined
    const threads = Object.fromEntries(systems.map(system => [system, Object.fromEntries(keys.map(([key]) => [key, threadMedians(samples[system][key])]))]))
    return {
      rounds,
      cpuThreadsUs: threads,
      zmqVersion: build?.zmqVersion,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAverage(),
      samples,
      roundRatios: { 'c=16': ratios('c=16'), 'c=1': ratios('c=1') }
    }
  }
})
