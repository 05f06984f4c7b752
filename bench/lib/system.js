/**
 * What the benchmark reads about processes and the machine, from /proc and `node:os`.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'

let ticksPerSecond

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, usually 100). */
function clockTicks () {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** The fields of /proc/<pid>/stat after the command name, or undefined when the process is gone. */
function statFields (pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may itself hold spaces and parentheses.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) that `pid` has used so far, or undefined when it is gone. */
export function cpuSeconds (pid) {
  const fields = statFields(pid)
  // Fields 14 and 15 of stat (utime, stime); the slice starts at field 3.
  return fields ? (Number(fields[11]) + Number(fields[12])) / clockTicks() : undefined
}

/**
 * CPU seconds that `pid` has run so far, summed over its live threads from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds on the CPU), or undefined when the
 * process is gone or the kernel keeps no schedstat. Finer than `cpuSeconds`, whose clock
 * ticks (10 ms) are as coarse as the whole idle budget of a process.
 */
export function cpuSecondsPrecise (pid) {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {}
    }
    return ns / 1e9
  } catch {
    return undefined
  }
}

/** The pids of every live descendant of `pid`, read from the parent links in /proc. */
export function descendants (pid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = statFields(entry)
    if (!fields) continue
    const ppid = Number(fields[1])
    if (!children.has(ppid)) children.set(ppid, [])
    children.get(ppid).push(Number(entry))
  }
  const found = []
  const stack = [pid]
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()) ?? []) {
      found.push(child)
      stack.push(child)
    }
  }
  return found
}

/** `pid` and every live descendant of it: a broker and its workers. */
export function processTree (pid) {
  return [pid, ...descendants(pid)]
}

/** Resident set size of `pid` in MiB (VmRSS), or undefined when it is gone. */
export function rssMiB (pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** The machine the numbers were measured on. */
export function machineInfo () {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString()
  }
}
