/**
 * The broker's tables: its workers, its services with their ready workers and waiting
 * jobs, and its jobs in flight, with the bookkeeping that keeps them consistent. No
 * socket, timer or event here: the {@link Broker} orchestrates, the tables record.
 * @internal
 */
import { MmiStatus, type ReplyEnvelope, type WorkerExtension } from '@net-server/client'
import { Deque } from './deque.js'
import type { DispatchJob, DispatchService, DispatchWorker, ReadyWorkers } from './dispatch.js'
import type { BrokerStats, WorkerInfo } from './types.js'

/** A service: its ready workers and its waiting jobs. */
export interface Service extends DispatchService {
  readonly nameFrame: Buffer
  readonly waiting: Deque<Job>
  readonly ready: ReadySet
  /** Workers in the pool that offer it. */
  workers: number
  /** Declared in the options or offered by a worker since bind. */
  known: boolean
}

/** A worker in the pool. */
export interface Worker extends DispatchWorker {
  readonly routingId: Buffer
  /** The routing id in latin1: the table's key. */
  readonly key: string
  readonly extended: boolean
  readonly services: readonly Service[]
  /** The services' names, for {@link info}. */
  readonly serviceNames: readonly string[]
  readonly connectedAt: number
  freeSlots: number
  served: number
  job: Job | undefined
  jobStartedAt: number | undefined
  /** Heartbeat tick at which the broker last heard from it. */
  seenTick: number
  retiring: boolean
  /** Takes no more jobs and leaves by itself (`DisconnectWorkerOptions.wait`). */
  leaving: boolean
  gone: boolean
}

/** A request the broker accepted, waiting or in flight. */
export interface Job extends DispatchJob {
  readonly idFrame: Buffer
  readonly envelope: ReplyEnvelope
  readonly service: Service
  readonly body: Buffer[]
  /** True while it is in its service's waiting queue. */
  waiting: boolean
  worker: Worker | undefined
  timer: NodeJS.Timeout | undefined
  requeued: boolean
}

const JOB_ID_BYTES = 6
const MMI_FOUND = [Buffer.from(MmiStatus.FOUND)]
const MMI_NOT_FOUND = [Buffer.from(MmiStatus.NOT_FOUND)]

/**
 * The workers of a service that have a free slot, most free slots first, least
 * recently used first among equals: one insertion-ordered Set per free-slot count.
 * A worker's `freeSlots` must not change while it is in the set (take it out first).
 */
export class ReadySet<W extends DispatchWorker = Worker> implements ReadyWorkers {
  readonly #buckets: Set<W>[] = []
  #size = 0
  /** No bucket above this one holds a worker. */
  #top = 0

  get size (): number {
    return this.#size
  }

  /** Adds a worker at the back of its bucket: it becomes the most recently used. */
  add (worker: W): void {
    const free = worker.freeSlots
    const bucket = this.#buckets[free] ??= new Set()
    if (bucket.has(worker)) return
    bucket.add(worker)
    this.#size++
    if (free > this.#top) this.#top = free
  }

  delete (worker: W): boolean {
    if (this.#buckets[worker.freeSlots]?.delete(worker) !== true) return false
    this.#size--
    return true
  }

  has (worker: DispatchWorker): boolean {
    return this.#buckets[worker.freeSlots]?.has(worker as W) === true
  }

  first (): W | undefined {
    if (this.#size === 0) return undefined
    // Lower the top past buckets that emptied since: amortized O(1).
    for (let free = this.#top; free > 0; free--) {
      const bucket = this.#buckets[free]
      if (bucket !== undefined && bucket.size > 0) {
        this.#top = free
        return bucket.values().next().value
      }
    }
    return undefined
  }

  * [Symbol.iterator] (): Iterator<W> {
    for (let free = this.#top; free > 0; free--) {
      const bucket = this.#buckets[free]
      if (bucket !== undefined) yield * bucket
    }
  }
}

/** The broker's workers, services and jobs, and the counts kept over them. */
export class BrokerTables {
  readonly services = new Map<string, Service>()
  /** Workers by routing id (latin1). */
  readonly workers = new Map<string, Worker>()
  /** Jobs sent to a worker and not answered yet, by job id. */
  readonly inFlight = new Map<number, Job>()
  /** Jobs waiting, over all services. */
  queued = 0
  #nextJobId = 1

  addService (name: string, known: boolean): Service {
    const service: Service = { name, nameFrame: Buffer.from(name), waiting: new Deque(), ready: new ReadySet(), workers: 0, known }
    this.services.set(name, service)
    return service
  }

  /** Records a worker that sent READY, with one slot; it is ready once {@link BrokerTables.release} says so. */
  addWorker (routingId: Buffer, key: string, names: readonly string[], extension: WorkerExtension | undefined, tick: number): Worker {
    const services = names.map((name) => {
      const service = this.services.get(name) ?? this.addService(name, true)
      service.known = true
      service.workers++
      return service
    })
    const worker: Worker = {
      routingId,
      key,
      id: routingId.toString('hex'),
      pid: extension?.pid,
      extended: extension !== undefined,
      services,
      serviceNames: Object.freeze(services.map((s) => s.name)),
      connectedAt: Date.now(),
      slots: 1,
      freeSlots: 1,
      served: 0,
      job: undefined,
      jobStartedAt: undefined,
      seenTick: tick,
      retiring: false,
      leaving: false,
      gone: false
    }
    this.workers.set(key, worker)
    return worker
  }

  /** Takes a worker out of the pool; its job, if any, is left to the caller. False when it had gone already. */
  removeWorker (worker: Worker): boolean {
    if (worker.gone) return false
    worker.gone = true
    this.workers.delete(worker.key)
    this.unready(worker)
    for (const s of worker.services) s.workers--
    return true
  }

  findWorker (idOrPid: string | number): Worker | undefined {
    for (const w of this.workers.values()) {
      if (typeof idOrPid === 'number' ? w.pid === idOrPid : w.id === idOrPid) return w
    }
    return undefined
  }

  /** A new job for `service`, not yet waiting nor in flight. */
  newJob (client: Buffer, envelope: ReplyEnvelope, service: Service, body: Buffer[]): Job {
    const id = this.#nextJobId++
    const idFrame = Buffer.allocUnsafe(JOB_ID_BYTES)
    idFrame.writeUIntBE(id, 0, JOB_ID_BYTES)
    return { id, idFrame, client, envelope, service, body, queuedAt: Date.now(), waiting: false, worker: undefined, timer: undefined, requeued: false }
  }

  /** Queues a job at the back of its service's queue, or at the front (a job sent again). */
  enqueue (job: Job, front: boolean): void {
    if (front) job.service.waiting.unshift(job)
    else job.service.waiting.push(job)
    job.waiting = true
    this.queued++
  }

  /** Takes a waiting job out of its queue (O(1) for the front one). */
  unqueue (job: Job): void {
    job.service.waiting.remove(job)
    job.waiting = false
    this.queued--
  }

  /** Empties a service's queue and returns its jobs, oldest first. */
  drainQueue (service: Service): Job[] {
    const jobs = service.waiting.drain()
    for (const job of jobs) job.waiting = false
    this.queued -= jobs.length
    return jobs
  }

  /** Records that `worker` holds `job`: one slot fewer, the worker most recently used. */
  assign (worker: Worker, job: Job): void {
    this.unready(worker)
    worker.freeSlots--
    worker.job = job
    worker.jobStartedAt = Date.now()
    job.worker = worker
    this.inFlight.set(job.id, job)
    if (worker.freeSlots > 0) this.ready(worker)
  }

  /** Forgets where a job ran (answered, lost or timed out), and its timer; the worker's slot is freed by {@link BrokerTables.release}. */
  endJob (job: Job): void {
    clearTimeout(job.timer)
    job.timer = undefined
    job.worker = undefined
    this.inFlight.delete(job.id)
  }

  /** Takes `worker`'s job off it and frees the slot (not ready yet: see {@link BrokerTables.ready}). */
  release (worker: Worker): void {
    this.unready(worker)
    if (worker.job !== undefined) {
      worker.job = undefined
      worker.jobStartedAt = undefined
      worker.freeSlots++
    }
  }

  /** Makes a worker with a free slot a candidate of each of its services. */
  ready (worker: Worker): void {
    if (worker.freeSlots > 0 && !worker.gone) for (const s of worker.services) s.ready.add(worker)
  }

  unready (worker: Worker): void {
    for (const s of worker.services) s.ready.delete(worker)
  }

  /** True when a job waits for one of `worker`'s services. */
  hasWorkFor (worker: Worker): boolean {
    if (this.queued === 0) return false
    for (const s of worker.services) if (s.waiting.length > 0) return true
    return false
  }

  /** The gauges of `BrokerStats`: workers by state, jobs waiting and in flight. */
  gauges (): Pick<BrokerStats, 'workers' | 'idleWorkers' | 'busyWorkers' | 'queued' | 'queuedByService' | 'inFlight'> {
    let idle = 0
    for (const w of this.workers.values()) if (w.job === undefined) idle++
    // Services with no job waiting are left out.
    const queuedByService: Record<string, number> = {}
    for (const s of this.services.values()) if (s.waiting.length > 0) queuedByService[s.name] = s.waiting.length
    return { workers: this.workers.size, idleWorkers: idle, busyWorkers: this.workers.size - idle, queued: this.queued, queuedByService, inFlight: this.inFlight.size }
  }

  /** The answer to an MMI `mmi.service` request: whether the service named in `body` has workers. */
  mmiService (body: readonly Buffer[]): Buffer[] {
    const asked = body.length > 0 ? this.services.get(body[0]!.toString()) : undefined
    return asked !== undefined && asked.workers > 0 ? MMI_FOUND : MMI_NOT_FOUND
  }
}

/** A snapshot of a worker, for events and the worker table. */
export function info (w: Worker): WorkerInfo {
  return {
    id: w.id,
    pid: w.pid,
    services: w.serviceNames,
    extended: w.extended,
    state: w.job === undefined ? 'idle' : 'busy',
    served: w.served,
    connectedAt: w.connectedAt,
    jobStartedAt: w.jobStartedAt,
    retiring: w.retiring || w.leaving
  }
}
