/**
 * CPU per job: the CPU time that a broker and all its descendants (its workers) use
 * while a load runs, divided by the jobs they complete. Each reading holds every
 * process of the tree: the threads' on-CPU nanoseconds from schedstat when the kernel
 * keeps them, else user + system clock ticks from /proc/<pid>/stat.
 */
import { performance } from 'node:perf_hooks'
import { cpuSeconds, cpuSecondsPrecise, processTree } from './system.js'
import { round } from './stats.js'

/** The CPU seconds so far of `pid` and each descendant, in one reading, and when it was taken. */
export function readTree (pid) {
  const before = performance.now()
  const pids = processTree(pid)
  const precise = new Map(pids.map(p => [p, cpuSecondsPrecise(p)]))
  const ticks = new Map(pids.map(p => [p, cpuSeconds(p)]))
  return { root: pid, at: (before + performance.now()) / 2, precise, ticks }
}

/**
 * The CPU that the tree used between readings `first` and `last`, split into the root
 * (the broker) and the rest (its workers), in seconds, with the wall seconds between
 * the readings. A process that started in between counts from zero; one that ended is
 * missing from `last` and counts nothing (the load keeps every worker alive).
 */
export function used (first, last) {
  const precise = [...last.precise.values(), ...first.precise.values()].every(v => v !== undefined)
  const source = precise ? 'schedstat' : 'stat'
  const readings = precise ? [first.precise, last.precise] : [first.ticks, last.ticks]
  let broker = 0
  let workers = 0
  for (const [pid, end] of readings[1]) {
    const delta = (end ?? 0) - (readings[0].get(pid) ?? 0)
    if (pid === last.root) broker += delta
    else workers += delta
  }
  return { source, wallSeconds: (last.at - first.at) / 1000, broker, workers, processes: readings[1].size }
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
    cpuProcesses: usage.processes
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
