/**
 * `idle`: the broker and 4 workers, all ready and idle, for `BENCH_IDLE_SECONDS`
 * (10 s by default): the CPU seconds (user + system, from /proc/<pid>/stat) that the
 * broker and all its descendants use over that window.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { serverMissing, skipped, withServer } from '../lib/measure.js'
import { cpuSeconds, descendants } from '../lib/system.js'
import { round } from '../lib/stats.js'

const WORKERS = 4

export default {
  name: 'idle',
  description: 'CPU seconds used by the broker and 4 idle workers over 10 s',
  async run (ctx) {
    const seconds = ctx.config.idleSeconds
    const missing = serverMissing()
    if (missing) return { rows: [skipped('idle', 'nsz', `${seconds}s`, missing, { workers: WORKERS })] }
    return withServer(ctx, { appName: 'uppercase', workers: WORKERS }, async server => {
      const pids = [server.pid, ...descendants(server.pid)]
      const before = new Map(pids.map(pid => [pid, cpuSeconds(pid)]))
      ctx.log(`  measuring ${pids.length} processes idle for ${seconds} s`)
      // The measurement window itself: the processes are left alone while it runs.
      await sleep(seconds * 1000)
      const after = [server.pid, ...descendants(server.pid)]
      const perProcess = {}
      let total = 0
      for (const pid of new Set([...pids, ...after])) {
        const used = (cpuSeconds(pid) ?? before.get(pid) ?? 0) - (before.get(pid) ?? 0)
        perProcess[pid === server.pid ? `broker ${pid}` : `child ${pid}`] = round(used)
        total += used
      }
      const r = { scenario: 'idle', system: 'nsz', key: `${seconds}s`, status: 'ok', workers: WORKERS, cpuSeconds: round(total), processes: after.length }
      ctx.point(r)
      return { rows: [r], metrics: { seconds, cpuSeconds: round(total), perProcess, processesBefore: pids.length, processesAfter: after.length } }
    })
  }
}
