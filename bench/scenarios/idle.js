/**
 * `idle`: the broker and 4 workers, all ready and idle (the metrics endpoint and the
 * dashboard on, no page open), for `BENCH_IDLE_SECONDS`
 * (10 s by default): the CPU seconds that the broker and all its descendants use over
 * that window. The window starts `BENCH_IDLE_SETTLE` seconds (30 by default) after
 * the workers serve: after start-up, V8's memory reducer runs a few garbage
 * collections in each process (8 s after a process's last start-up collection, then
 * again while the heap shrinks, up to about 25 s after start), which is start-up work,
 * not the cost of idling. The CPU used while settling is reported beside the window
 * (`settleCpuSeconds`). Two readings: user + system time from /proc/<pid>/stat (clock
 * ticks of 10 ms, so each process reads 0 or 0.01 s where it used a little), and the
 * threads' on-CPU nanoseconds from /proc/<pid>/task/<tid>/schedstat, which the target
 * uses when the kernel provides it.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { defineScenario } from '../lib/scenario.js'
import { cpuSeconds, cpuSecondsPrecise, processTree } from '../lib/system.js'
import { round } from '../lib/stats.js'

const WORKERS = 4

const read = pid => ({ ticks: cpuSeconds(pid), precise: cpuSecondsPrecise(pid) })
const total = pids => pids.reduce((sum, pid) => sum + (cpuSecondsPrecise(pid) ?? cpuSeconds(pid) ?? 0), 0)

/** The CPU each process of `after` used since `before` (a map of pid to `read`), and the sums. */
function usage (before, after, brokerPid) {
  const perProcess = {}
  const used = { ticks: 0, precise: 0 }
  let precise = true
  for (const pid of new Set([...before.keys(), ...after])) {
    const start = before.get(pid) ?? { ticks: 0, precise: 0 }
    const end = read(pid)
    const delta = {
      ticks: (end.ticks ?? start.ticks) - start.ticks,
      precise: (end.precise ?? start.precise) - start.precise
    }
    if (end.precise === undefined || start.precise === undefined) precise = false
    perProcess[pid === brokerPid ? `broker ${pid}` : `child ${pid}`] = { ticks: round(delta.ticks), precise: round(delta.precise) }
    used.ticks += delta.ticks
    used.precise += delta.precise
  }
  return { perProcess, used, precise }
}

/** Lets the pool settle, then reads the CPU that the broker and its workers use while idle. */
async function watchIdle (stage, server) {
  const seconds = stage.config.idleSeconds
  const settle = stage.config.idleSettleSeconds
  const settling = processTree(server.pid)
  const settleStart = total(settling)
  if (settle > 0) {
    stage.log(`  letting ${settling.length} processes settle for ${settle} s`)
    await sleep(settle * 1000)
  }
  const settleCpu = round(total(settling) - settleStart)
  const pids = processTree(server.pid)
  const before = new Map(pids.map(pid => [pid, read(pid)]))
  stage.log(`  measuring ${pids.length} processes idle for ${seconds} s (${settleCpu} CPU s while settling)`)
  // The measurement window itself: the processes are left alone while it runs.
  await sleep(seconds * 1000)
  const after = processTree(server.pid)
  const { perProcess, used, precise } = usage(before, after, server.pid)
  const cpu = round(precise ? used.precise : used.ticks)
  const r = stage.point({
    scenario: 'idle',
    system: 'nsz',
    key: `${seconds}s`,
    status: 'ok',
    workers: WORKERS,
    cpuSeconds: cpu,
    cpuSecondsTicks: round(used.ticks),
    settleSeconds: settle,
    settleCpuSeconds: settleCpu,
    source: precise ? 'schedstat' : 'stat',
    processes: after.length
  })
  return { seconds, settleSeconds: settle, settleCpuSeconds: settleCpu, cpuSeconds: cpu, cpuSecondsTicks: round(used.ticks), source: r.source, perProcess, processesBefore: pids.length, processesAfter: after.length }
}

export default defineScenario({
  name: 'idle',
  description: 'CPU seconds used by the broker and 4 idle workers over 10 s',
  // With the metrics endpoint and the dashboard on, and no page open: they must cost nothing idle either.
  measure: stage => stage.withServer({ appName: 'uppercase', workers: WORKERS, args: ['--metrics-port', '0', '--dashboard'] }, server => watchIdle(stage, server), [
    [`${stage.config.idleSeconds}s`, { workers: WORKERS }]
  ])
})
