/**
 * `nsz status` for people: the server's figures, its children, then the broker's
 * remote workers, as aligned tables.
 * @internal
 */
import type { ZmqServerStatus } from './types.js'

/** `75` → `1m15s`: ages and uptimes for people. */
function age (seconds: number): string {
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor(s / 3600) % 24).padStart(2, '0')}h`
}

/** Rows padded to their columns' widths; the last column is not padded. */
function table (rows: readonly string[][]): string[] {
  const columns = rows[0]!.length
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((row) => row.map((cell, i) => (i < columns - 1 ? cell.padEnd(widths[i]!) : cell)).join('  '))
}

/** The text `nsz status` prints without `--json`. */
export function statusTable (s: ZmqServerStatus): string {
  const remote = s.remoteWorkers > 0 ? `, ${s.remoteWorkers} remote` : ''
  const lines = [
    `${s.title}  pid ${s.pid}  up ${age(s.uptime)}`,
    `frontend ${s.frontend}  backend ${s.backend}`,
    `workers  ${s.children.length} (min ${s.limits.minServers}, max ${s.limits.maxServers})${remote}`,
    `slots    ${s.slots.inUse === undefined ? `${s.slots.total}` : `${s.slots.inUse}/${s.slots.total} in use`}`,
    `queue    ${s.queued} waiting, ${s.inFlight} in flight`,
    `jobs     ${s.served} served, ${s.jobsPerSecond.toFixed(1)}/s`,
    ''
  ]
  const slots = (c: ZmqServerStatus['children'][number]): string => c.running === undefined ? String(c.slots) : `${c.running}/${c.slots}`
  lines.push(...table([['PID', 'STATE', 'JOBS', 'SLOTS', 'AGE'], ...s.children.map((c) => [String(c.pid), c.state, String(c.jobs), slots(c), age(c.age)])]))
  if (s.remote.length > 0) {
    lines.push('')
    const rows = s.remote.map((w) => [w.host ?? '-', w.pid === undefined ? '-' : String(w.pid), w.state, String(w.served), `${w.running}/${w.slots}`, age(w.age), w.id])
    lines.push(...table([['REMOTE HOST', 'PID', 'STATE', 'JOBS', 'SLOTS', 'AGE', 'ID'], ...rows]))
  }
  return `${lines.join('\n')}\n`
}
