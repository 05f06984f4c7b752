/**
 * What the dashboard remembers beyond a status snapshot: the last errors (refused
 * input, 5xx replies) with their time, the workers that just left or joined, the
 * actions taken from the page, and the charts' history. Each list is a bounded
 * ring, fed by events as they happen: nothing runs on a timer. A change is
 * announced to the one listener (the live stream), which decides when to push.
 * @internal
 */
import { JobHistory, type HistoryColumns } from './dashboard-history.js'

/** Errors kept for the page. */
export const MAX_ERRORS = 50
/** Worker arrivals and departures kept for the page. */
export const MAX_WORKER_EVENTS = 100
/** Actions kept for the page. */
export const MAX_ACTIONS = 20
/** How long the page marks a worker that left or joined. */
export const RECENT_MS = 60_000
/** Errors alike (kind, status, service, detail) that follow each other within this time share one row. */
const COALESCE_MS = 1000

/** One row of the last errors. */
export interface DashboardError {
  /** When it last happened (ms since the epoch). */
  at: number
  /** When the first of the row happened. */
  readonly first: number
  /** `job` (a job ended with a 5xx status), or the broker's loss kind (`refused:malformed`, `zapRefused:address` …). */
  readonly kind: string
  readonly status?: number
  readonly service?: string
  readonly detail: string
  /** How many happened, alike, one after the other. */
  count: number
}

/** A worker that joined or left the pool. */
export interface WorkerEvent {
  readonly at: number
  readonly event: 'spawn' | 'exit' | 'join' | 'gone'
  /** `local`: one of the server's own children; `remote`: a worker of another pool. */
  readonly host: 'local' | 'remote'
  readonly pid?: number
  /** A remote worker's routing id (hex) and the host it names. */
  readonly id?: string
  readonly hostname?: string
  /** How a child exited (`SIGKILL`, `exit 1`), or why a remote worker left. */
  readonly reason?: string
  /** A new child: the pid of the exited child it replaces, when it follows an exit. */
  readonly replaces?: number
}

/** An action asked for from the page, taken or refused. */
export interface DashboardAction {
  readonly at: number
  readonly action: string
  /** The client's address. */
  readonly from: string
  /** `done`, or why it was refused. */
  readonly result: string
}

/** The state of the dashboard, for the API. */
export interface DashboardMemory {
  readonly errors: readonly DashboardError[]
  readonly workerEvents: readonly WorkerEvent[]
  readonly actions: readonly DashboardAction[]
  readonly history: HistoryColumns
}

/** A ring that keeps the last `max` items it was given, oldest first. */
class Ring<T> {
  readonly #items: T[] = []
  readonly #max: number

  constructor (max: number) {
    this.#max = max
  }

  push (item: T): void {
    this.#items.push(item)
    if (this.#items.length > this.#max) this.#items.shift()
  }

  get last (): T | undefined {
    return this.#items[this.#items.length - 1]
  }

  items (): T[] {
    return [...this.#items]
  }
}

/** The reason text of a child's exit. */
function exitReason (code: number | null, signal: string | null): string {
  return signal ?? `exit ${String(code)}`
}

/** The dashboard's memory of one server. */
export class DashboardState {
  readonly history: JobHistory
  readonly #errors = new Ring<DashboardError>(MAX_ERRORS)
  readonly #workers = new Ring<WorkerEvent>(MAX_WORKER_EVENTS)
  readonly #actions = new Ring<DashboardAction>(MAX_ACTIONS)
  /** Children that exited and were not replaced yet, oldest first, for `replaces`. */
  readonly #unreplaced: number[] = []
  readonly #now: () => number
  #onChange: (() => void) | undefined

  constructor (now: () => number = Date.now) {
    this.#now = now
    this.history = new JobHistory(now)
  }

  /** Sets the one listener told of each change (an error, a worker, an action). */
  onChange (listener: (() => void) | undefined): void {
    this.#onChange = listener
  }

  /** A job ended: counted for the charts, and listed among the errors when its status is 5xx. */
  jobEnded (service: string, status: number, runSeconds: number | undefined): void {
    this.history.jobEnded(status, runSeconds === undefined ? undefined : runSeconds * 1000)
    if (status >= 500) this.error('job', JOB_STATUS_TEXT[status] ?? `status ${status}`, { status, service })
  }

  /** Something went wrong: `kind` as in {@link DashboardError}. */
  error (kind: string, detail: string, about: { status?: number, service?: string } = {}): void {
    const now = this.#now()
    const last = this.#errors.last
    if (last !== undefined && last.kind === kind && last.status === about.status && last.service === about.service && last.detail === detail && now - last.at < COALESCE_MS) {
      last.count++
      last.at = now
    } else {
      this.#errors.push({ at: now, first: now, kind, ...about, detail, count: 1 })
    }
    this.#changed()
  }

  /** A child of the server's pool was started. */
  childSpawned (pid: number): void {
    const replaces = this.#unreplaced.shift()
    this.#workers.push({ at: this.#now(), event: 'spawn', host: 'local', pid, ...(replaces === undefined ? {} : { replaces }) })
    this.#changed()
  }

  /** A child of the server's pool exited; `expected` when the pool stopped it (a TTOU, a restart, a stop), so that no replacement is owed. */
  childExited (pid: number, code: number | null, signal: string | null, expected: boolean): void {
    if (!expected) {
      this.#unreplaced.push(pid)
      // Bounded as the ring is: a pool that lost more has no use for the oldest.
      if (this.#unreplaced.length > MAX_WORKER_EVENTS) this.#unreplaced.shift()
    }
    this.#workers.push({ at: this.#now(), event: 'exit', host: 'local', pid, reason: exitReason(code, signal) })
    this.#changed()
  }

  /** A worker that is not one of the server's children joined (`join`) or left (`gone`, with the broker's reason). */
  remoteWorker (event: 'join' | 'gone', worker: { id: string, pid?: number | undefined, hostname?: string | undefined }, reason?: string): void {
    const { id, pid, hostname } = worker
    this.#workers.push({
      at: this.#now(), event, host: 'remote', id, ...(pid === undefined ? {} : { pid }), ...(hostname === undefined ? {} : { hostname }), ...(reason === undefined ? {} : { reason })
    })
    this.#changed()
  }

  /** An action asked for from the page, with its outcome. */
  action (action: string, from: string, result: string): void {
    this.#actions.push({ at: this.#now(), action, from, result })
    this.#changed()
  }

  /** The errors, the recent worker events (younger than {@link RECENT_MS}), the actions and the history. */
  memory (): DashboardMemory {
    const since = this.#now() - RECENT_MS
    return {
      errors: this.#errors.items().map((e) => ({ ...e })),
      workerEvents: this.#workers.items().filter((e) => e.at >= since),
      actions: this.#actions.items(),
      history: this.history.columns()
    }
  }

  #changed (): void {
    this.#onChange?.()
  }
}

/** How the page names the 5xx statuses of jobs. */
const JOB_STATUS_TEXT: Readonly<Record<number, string>> = {
  500: 'the job failed (500)',
  502: 'worker lost while the job ran (502)',
  503: 'unavailable: queue timeout or stopping (503)',
  504: 'job timed out (504)'
}
