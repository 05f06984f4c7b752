/** Reading the JSON-lines log files (pino) that servers under test write. */
import { existsSync, readFileSync } from 'node:fs'

/** One line of a server's log file: its pid, its message and the rest. */
export interface LogRecord {
  readonly pid: number
  readonly msg: string
  readonly level: string
  readonly [field: string]: unknown
}

/** The records of a log file, in order; none when it does not exist (yet). */
export function logRecords (file: string): LogRecord[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as LogRecord)
}

/** The pids that wrote a record with message `msg` to `file`, in ascending order. */
export function loggedBy (file: string, msg: string): number[] {
  return [...new Set(logRecords(file).filter((r) => r.msg === msg).map((r) => r.pid))].sort((a, b) => a - b)
}
