/**
 * The broker's figures as Prometheus metrics (prom-client). Every counter and gauge is
 * read at scrape time from one status snapshot, the one `nsz status --json` prints, so
 * the two always agree and nothing on the job's path feeds them. Only the two
 * histograms (queue wait, run time) learn of each job, through the broker's one
 * {@link JobObserver}. `docs/scale-out.md` lists every metric.
 * @internal
 */
import { Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client'
import type { JobObserver, ZmqServerStatus } from './types.js'

/** Seconds: from a millisecond job to a minute's wait. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

type Reading<L extends string> = Array<[labels: LabelValues<L>, value: number]>

/** Each `[key, count]` of a record as a row labelled `label=key`. */
function byLabel<L extends string> (label: L, record: Readonly<Record<string, number>>): Reading<L> {
  return Object.entries(record).map(([key, n]) => [{ [label]: key } as LabelValues<L>, n])
}

/** The metrics of one server, in a registry of their own. */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly #snapshot: () => ZmqServerStatus
  #current: ZmqServerStatus | undefined
  readonly #wait: Histogram<'service'>
  readonly #duration: Histogram<'service'>
  // The histograms' children by service: a job costs no label lookup.
  readonly #waitOf = new Map<string, ReturnType<Histogram<'service'>['labels']>>()
  readonly #durationOf = new Map<string, ReturnType<Histogram<'service'>['labels']>>()

  /** @param snapshot - the server's status, read once per scrape */
  constructor (snapshot: () => ZmqServerStatus) {
    this.#snapshot = snapshot
    const registers = [this.registry]
    this.#wait = new Histogram({ name: 'nsz_queue_wait_seconds', help: 'Seconds an accepted job waited for a worker, by service', labelNames: ['service'], buckets: BUCKETS, registers })
    this.#duration = new Histogram({ name: 'nsz_job_duration_seconds', help: 'Seconds a job ran on its worker until its reply (or its 502, 504), by service', labelNames: ['service'], buckets: BUCKETS, registers })

    this.#counter('nsz_jobs_total', 'Accepted jobs that ended, by service and status', ['service', 'status'], (s) =>
      Object.entries(s.jobs).flatMap(([service, counts]) => Object.entries(counts).map(([status, n]): [LabelValues<'service' | 'status'>, number] => [{ service, status }, n])))
    this.#counter('nsz_requests_refused_total', 'Requests answered at once with an error or dropped from the queue, by reason', ['reason'], (s) => byLabel('reason', s.losses.refused))
    this.#counter('nsz_replies_undelivered_total', 'Replies that did not reach their client, by reason', ['reason'], (s) => byLabel('reason', s.losses.undelivered))
    this.#counter('nsz_workers_dropped_total', 'Workers that left the pool, by reason (expired: heartbeats lost)', ['reason'], (s) => byLabel('reason', s.losses.workersDropped))
    this.#counter('nsz_heartbeat_losses_total', 'Idle workers dropped because their heartbeats stopped', [], (s) => [[{}, s.losses.workersDropped.expired]])
    this.#counter('nsz_jobs_lost_total', 'Jobs whose worker was lost while they ran (answered 502)', [], (s) => [[{}, s.losses.jobsLost]])
    this.#counter('nsz_jobs_requeued_total', 'Jobs sent to another worker after theirs was lost', [], (s) => [[{}, s.requeued]])
    this.#counter('nsz_declines_total', 'Jobs a worker declined before it started them, sent to another worker', [], (s) => [[{}, s.declines]])
    this.#counter('nsz_job_timeouts_total', 'Jobs that ran past jobTimeout (answered 504)', [], (s) => [[{}, s.jobTimeouts]])
    this.#counter('nsz_protocol_errors_total', 'Messages that broke the protocol, both sockets', [], (s) => [[{}, s.protocolErrors]])
    this.#counter('nsz_zap_refusals_total', 'Connections that ZAP refused, by reason', ['reason'], (s) => byLabel('reason', s.losses.zapRefused))
    this.#counter('nsz_registrations_refused_total', 'READYs refused, by reason', ['reason'], (s) => byLabel('reason', s.losses.registrationsRefused))
    this.#counter('nsz_stray_replies_total', 'Worker replies that matched no job of theirs', [], (s) => [[{}, s.losses.strayReplies]])
    this.#counter('nsz_child_spawns_total', 'Children the pool started', [], (s) => [[{}, s.childSpawns]])
    this.#counter('nsz_child_exits_total', 'Children that exited (stopped, recycled, crashed or killed)', [], (s) => [[{}, s.childExits]])

    this.#gauge('nsz_queue_depth', 'Requests waiting for a worker, by service', ['service'], (s) => byLabel('service', s.queuedByService))
    this.#gauge('nsz_jobs_in_flight', 'Jobs sent to a worker and not answered yet', [], (s) => [[{}, s.inFlight]])
    this.#gauge('nsz_workers', 'Workers in the broker\'s table, by state and host (local: its own children; remote: every other)', ['state', 'host'], (s) =>
      (['local', 'remote'] as const).flatMap((host) => (['idle', 'busy'] as const).map((state): [LabelValues<'state' | 'host'>, number] => [{ state, host }, s.workersByHost[host][state]])))
    this.#gauge('nsz_children', 'The pool\'s own children, by state', ['state'], (s) => {
      const counts: Record<string, number> = { starting: 0, waiting: 0, processing: 0, exiting: 0 }
      for (const c of s.children) counts[c.state] = (counts[c.state] ?? 0) + 1
      return byLabel('state', counts)
    })
    this.#gauge('nsz_slots', 'Jobs the pool takes at once, over every worker', [], (s) => [[{}, s.slots.total]])
    this.#gauge('nsz_slots_in_use', 'Slots that hold a job', [], (s) => [[{}, s.slots.inUse ?? 0]])
    this.#gauge('nsz_held_bytes', 'Bytes of replies held for clients that do not read them', [], (s) => [[{}, s.heldBytes]])
  }

  /** The observer to give the broker ({@link Broker.observeJobs}): feeds the two histograms. */
  readonly observer: JobObserver = (service, _status, waitSeconds, runSeconds) => {
    let wait = this.#waitOf.get(service)
    if (wait === undefined) {
      wait = this.#wait.labels(service)
      this.#waitOf.set(service, wait)
    }
    wait.observe(waitSeconds)
    if (runSeconds === undefined) return
    let duration = this.#durationOf.get(service)
    if (duration === undefined) {
      duration = this.#duration.labels(service)
      this.#durationOf.set(service, duration)
    }
    duration.observe(runSeconds)
  }

  /** The Prometheus text of every metric, from one fresh status snapshot. */
  async text (): Promise<string> {
    this.#current = this.#snapshot()
    try {
      return await this.registry.metrics()
    } finally {
      this.#current = undefined
    }
  }

  get #status (): ZmqServerStatus {
    this.#current ??= this.#snapshot()
    return this.#current
  }

  /** A counter whose values are the snapshot's (they only grow while the server runs). */
  #counter<L extends string> (name: string, help: string, labelNames: readonly L[], read: (s: ZmqServerStatus) => Reading<L>): void {
    this.#fromSnapshot(Counter<L>, name, help, labelNames, read, (metric, labels, value) => { metric.inc(labels, value) })
  }

  /** A gauge set from the snapshot; series that are gone (a service with nothing waiting) are left out. */
  #gauge<L extends string> (name: string, help: string, labelNames: readonly L[], read: (s: ZmqServerStatus) => Reading<L>): void {
    this.#fromSnapshot(Gauge<L>, name, help, labelNames, read, (metric, labels, value) => { metric.set(labels, value) })
  }

  /** A metric emptied at each scrape and filled with what `read` finds in the snapshot. */
  #fromSnapshot<L extends string, M extends Counter<L> | Gauge<L>> (
    Kind: new (config: { name: string, help: string, labelNames: readonly L[], registers: Registry[], collect: (this: M) => void }) => M,
    name: string, help: string, labelNames: readonly L[], read: (s: ZmqServerStatus) => Reading<L>, put: (metric: M, labels: LabelValues<L>, value: number) => void
  ): void {
    const status = (): ZmqServerStatus => this.#status
    new Kind({ // eslint-disable-line no-new
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect (this: M) {
        this.reset()
        for (const [labels, value] of read(status())) put(this, labels, value)
      }
    })
  }
}
