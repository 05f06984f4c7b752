/**
 * CPU per job: the CPU time that a broker and all its descendants (its workers) use
 * while a load runs, divided by the jobs they complete. Each reading holds every
 * process of the tree: the threads' on-CPU nanoseconds from schedstat when the kernel
 * keeps them, else user + system clock ticks from /proc/<pid>/stat.
 */
import { performance } from 'node:perf_hooks'
import { readFileSync, readdirSync } from 'node:fs'
import { cpuSeconds, processTree } from './system.js'
import { round } from './stats.js'

/** The threads of `pid` with their on-CPU seconds (schedstat) and kind, or undefined when unreadable. */
function threadsOf (pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).map(tid => {
      const dir = `/proc/${pid}/task/${tid}`
      const seconds = Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]) / 1e9
      // The thread that runs main() (JavaScript, or the C program), libzmq's I/O threads, and the rest (V8, libuv).
      const kind = tid === String(pid) ? 'main' : readFileSync(`${dir}/comm`, 'utf8').startsWith('ZMQbg') ? 'zmq' : 'other'
      return { id: `${pid}/${tid}`, pid, kind, seconds }
    })
  } catch {
    return undefined
  }
}

/**
 * One reading of the tree under `pid`: each process's user + system seconds, each
 * thread's on-CPU seconds (undefined when the kernel keeps no schedstat), and when.
 */
export function readTree (pid) {
  const before = performance.now()
  const pids = processTree(pid)
  const ticks = new Map(pids.map(p => [p, cpuSeconds(p)]))
  const perProcess = pids.map(threadsOf)
  const threads = perProcess.every(Boolean) ? new Map(perProcess.flat().map(t => [t.id, t])) : undefined
  return { root: pid, at: (before + performance.now()) / 2, ticks, threads }
}

/**
 * The CPU seconds that the tree used between readings `first` and `last`: the root
 * (the broker), the rest (its workers), and with schedstat each side split by thread
 * kind (`broker main`, `broker zmq`, `workers other` ...), with the wall seconds between
 * the readings. A process or thread that started in between counts from zero; one that
 * ended is missing from `last` and counts nothing (the load keeps every worker alive).
 */
export function used (first, last) {
  const side = pid => (pid === last.root ? 'broker' : 'workers')
  const sums = { broker: 0, workers: 0 }
  const threads = {}
  const precise = first.threads !== undefined && last.threads !== undefined
  if (precise) {
    for (const t of last.threads.values()) {
      const delta = t.seconds - (first.threads.get(t.id)?.seconds ?? 0)
      sums[side(t.pid)] += delta
      const key = `${side(t.pid)} ${t.kind}`
      threads[key] = (threads[key] ?? 0) + delta
    }
  } else {
    for (const [pid, end] of last.ticks) sums[side(pid)] += (end ?? 0) - (first.ticks.get(pid) ?? 0)
  }
  return { source: precise ? 'schedstat' : 'stat', wallSeconds: (last.at - first.at) / 1000, ...sums, threads, processes: last.ticks.size }
}

/**
 * CPU microseconds per job from `usage` (see `used`) at `throughput` jobs per second:
 * the CPU seconds per wall second of the readings divided by the jobs per second of the
 * load's own window. The readings lie inside that window, in its steady state, so that
 * a late timer in the harness changes neither side.
 */
export function perJob (usage, throughput) {
  const us = seconds => round(seconds / usage.wallSeconds / throughput * 1e6)
  return {
    cpuBrokerUs: us(usage.broker),
    cpuWorkersUs: us(usage.workers),
    cpuTotalUs: us(usage.broker + usage.workers),
    cpuSource: usage.source,
    cpuProcesses: usage.processes,
    cpuThreadsUs: Object.fromEntries(Object.entries(usage.threads).sort().map(([kind, seconds]) => [kind, us(seconds)]))
  }
}

/**
 * Runs `stage.load(script, config)` and reads the CPU of the tree under `pid` from just
 * after the load's warm-up to just before its end (a margin of 5 % of the window, at
 * most 100 ms, each side). Resolves with the load's result and its CPU per job (see
 * `perJob`), or `cpu: undefined` when no job completed or a reading was missed.
 */
export async function loadWithCpu (stage, pid, script, config) {
  const { warmup, seconds } = { ...stage.config, ...config }
  const margin = Math.min(0.1, seconds * 0.05)
  const readings = []
  const timers = []
  const result = await stage.load(script, config, {
    onStarted: () => {
      for (const at of [warmup + margin, warmup + seconds - margin]) {
        timers.push(setTimeout(() => readings.push(readTree(pid)), at * 1000))
      }
    }
  })
  for (const timer of timers) clearTimeout(timer)
  const cpu = readings.length === 2 && result.throughput > 0 ? perJob(used(...readings), result.throughput) : undefined
  return { result, cpu }
}
