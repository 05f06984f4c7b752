/**
 * The broker's tables: its workers, its services with their ready workers and waiting
 * jobs, and its jobs in flight, with the bookkeeping that keeps them consistent. No
 * socket, timer or event here: the {@link Broker} orchestrates, the tables record.
 * @internal
 */
import { randomFillSync } from 'node:crypto'
import { MMI_PREFIX, MmiStatus, type ReplyEnvelope, type WorkerExtension } from '@net-server/client'
import type { DispatchService, DispatchWorker } from './dispatch.js'
import { ReadySet } from './ready-set.js'
import { FairQueue, type FairJob } from './fair-queue.js'
import type { BrokerStats, RegistrationRefusal, WorkerInfo } from './types.js'

/** A service: its ready workers and its waiting jobs. */
export interface Service extends DispatchService {
  readonly nameFrame: Buffer
  readonly waiting: FairQueue<Job>
  readonly ready: ReadySet<Worker>
  /** Workers in the pool that offer it. */
  workers: number
  /** Declared in the options or offered by a worker since bind. */
  known: boolean
  /** Declared in the options: kept when no worker offers it. */
  readonly declared: boolean
  /** Its jobs in flight. */
  inFlight: number
}

/** A worker in the pool. */
export interface Worker extends DispatchWorker {
  readonly routingId: Buffer
  /** The routing id in latin1: the table's key. */
  readonly key: string
  readonly extended: boolean
  /** It took the compact framing (its first compact message): REQUESTs to it go compact. */
  compact: boolean
  readonly services: readonly Service[]
  /** The services' names, for {@link info}. */
  readonly serviceNames: readonly string[]
  readonly connectedAt: number
  slots: number
  freeSlots: number
  served: number
  /** The jobs it holds, by {@link jobKey} of their id: in flight, and timed out but not answered yet. */
  readonly jobs: Map<number, Job>
  /** Of {@link Worker.jobs}, those that ran past `jobTimeout` (answered 504 already): each still holds its slot. */
  timedOut: number
  /** Heartbeat tick at which the broker last heard from it. */
  seenTick: number
  /** Takes no more jobs, and leaves once the jobs it runs are answered ({@link Worker.retireReason}). */
  retiring: boolean
  /** Why it leaves once retiring: `retired` (asked to), or `timeout` (one of its jobs ran past `jobTimeout`). */
  retireReason: 'retired' | 'timeout'
  /** Takes no more jobs and leaves by itself (`DisconnectWorkerOptions.wait`). */
  leaving: boolean
  gone: boolean
}

/** A request the broker accepted, waiting or in flight. */
export interface Job extends FairJob<Job> {
  /** The job id on the wire: random, so that one id tells nothing of the others. */
  idFrame: Buffer
  readonly envelope: ReplyEnvelope
  readonly service: Service
  readonly body: Buffer[]
  /** True while it is in its service's waiting queue. */
  waiting: boolean
  worker: Worker | undefined
  /** When it was sent to its worker (ms since the epoch); 0 until it is, and again while it waits to be sent again. */
  startedAt: number
  timer: NodeJS.Timeout | undefined
  /** It ran past `jobTimeout` (its client got 504) and its worker has not answered it yet. */
  timedOut: boolean
  requeued: boolean
}

/**
 * A job id frame as a key of {@link Worker.jobs}: its first 6 of 8 random bytes, a safe
 * integer; -1 for a frame of another length. A match is confirmed on the whole frame.
 */
export function jobKey (idFrame: Buffer): number {
  return idFrame.length === JOB_ID_BYTES ? idFrame.readUIntLE(0, 6) : -1
}

const JOB_ID_BYTES = 8
/** Job ids drawn from the system's random source at once, so that a job costs no system call. */
const JOB_IDS_PER_DRAW = 2048
const MMI_FOUND = [Buffer.from(MmiStatus.FOUND)]
const MMI_NOT_FOUND = [Buffer.from(MmiStatus.NOT_FOUND)]

/** The broker's workers, services and jobs, and the counts kept over them. */
export class BrokerTables {
  readonly services = new Map<string, Service>()
  /** Workers by routing id (latin1). */
  readonly workers = new Map<string, Worker>()
  /** Jobs sent to a worker and not answered yet, by job id. */
  readonly inFlight = new Map<number, Job>()
  /** Jobs waiting, over all services. */
  queued = 0
  /** Jobs waiting per client (routing id in latin1), over all services; clients with none are left out. */
  readonly queuedByClient = new Map<string, number>()
  #nextJobId = 1
  /** Services marked unused, and since when. */
  readonly #idle = new Map<Service, number>()
  #ids = Buffer.alloc(0)
  #idOffset = 0

  addService (name: string, known: boolean, declared = false): Service {
    const service: Service = { name, nameFrame: Buffer.from(name), waiting: new FairQueue(), ready: new ReadySet(), workers: 0, known, declared, inFlight: 0 }
    this.services.set(name, service)
    return service
  }

  /**
   * Marks a service that nothing declared, no worker offers and no job waits for or
   * runs in: {@link BrokerTables.forgetIdle} forgets it once it has stayed so for a
   * while, so that names offered once cannot pile up, while a worker that reconnects
   * soon finds its service (and its clients' requests still queue) as before.
   */
  forgetUnused (service: Service): void {
    if (service.declared || service.workers > 0 || service.inFlight > 0 || service.waiting.length > 0) return
    this.#idle.set(service, Date.now())
  }

  /** Forgets the services marked unused at or before `before` (ms since the epoch) that are still unused. */
  forgetIdle (before: number): void {
    for (const [service, since] of this.#idle) {
      if (since > before) continue
      this.#idle.delete(service)
      const unused = service.workers === 0 && service.inFlight === 0 && service.waiting.length === 0
      if (unused && this.services.get(service.name) === service) this.services.delete(service.name)
    }
  }

  /** Why a READY for `names` must be refused, or `undefined` when the worker may join. */
  checkRegistration (names: readonly string[], limits: { readonly maxServicesPerWorker: number, readonly maxServices: number }): { reason: RegistrationRefusal, why: string } | undefined {
    const reserved = names.find((n) => n.startsWith(MMI_PREFIX))
    if (reserved !== undefined) return { reason: 'reservedService', why: `READY for the reserved service ${reserved}` }
    if (names.length > limits.maxServicesPerWorker) {
      return { reason: 'tooManyServices', why: `READY for ${names.length} services, over maxServicesPerWorker (${limits.maxServicesPerWorker})` }
    }
    let added = 0
    for (const name of names) if (!this.services.has(name)) added++
    // Room is made first by forgetting every unused service, however recent.
    if (added > 0 && this.services.size + added > limits.maxServices) this.forgetIdle(Infinity)
    if (added > 0 && this.services.size + added > limits.maxServices) {
      return { reason: 'serviceTableFull', why: `READY for ${added} new services: the broker knows ${this.services.size}, maxServices is ${limits.maxServices}` }
    }
    return undefined
  }

  /** Records a worker that sent READY, with one slot (until its CREDIT says more); it is ready once {@link BrokerTables.ready} says so. */
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
      compact: false,
      services,
      serviceNames: Object.freeze(services.map((s) => s.name)),
      connectedAt: Date.now(),
      slots: 1,
      freeSlots: 1,
      served: 0,
      jobs: new Map(),
      timedOut: 0,
      seenTick: tick,
      retiring: false,
      retireReason: 'retired',
      leaving: false,
      gone: false
    }
    this.workers.set(key, worker)
    return worker
  }

  /** Takes a worker out of the pool; its jobs are left to the caller. False when it had gone already. */
  removeWorker (worker: Worker): boolean {
    if (worker.gone) return false
    worker.gone = true
    this.workers.delete(worker.key)
    this.unready(worker)
    for (const s of worker.services) {
      s.workers--
      this.forgetUnused(s)
    }
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
    return {
      id: this.#nextJobId++,
      idFrame: this.#randomId(),
      client,
      clientKey: client.toString('latin1'),
      envelope,
      service,
      body,
      queuedAt: Date.now(),
      waiting: false,
      older: undefined,
      newer: undefined,
      worker: undefined,
      startedAt: 0,
      timer: undefined,
      timedOut: false,
      requeued: false
    }
  }

  /** Jobs of the client `clientKey` that wait, over all services. */
  clientQueued (clientKey: string): number {
    return this.queuedByClient.get(clientKey) ?? 0
  }

  /** Queues a job last of its client's lane, or first (a job sent again). */
  enqueue (job: Job, front: boolean): void {
    const service = job.service
    // A job in flight kept its service; once it ended, the service may have been
    // forgotten on the way back to its queue.
    if (!this.services.has(service.name)) this.services.set(service.name, service)
    if (front) service.waiting.unshift(job)
    else service.waiting.push(job)
    job.waiting = true
    // A job sent again has not started anywhere until it is.
    job.startedAt = 0
    this.queued++
    this.queuedByClient.set(job.clientKey, this.clientQueued(job.clientKey) + 1)
  }

  /** A worker takes a waiting job: out of its queue, and its client's turn passes. */
  unqueue (job: Job): void {
    job.service.waiting.take(job)
    this.#left(job)
  }

  /**
   * Takes a waiting job out of its queue for good (expired, or its client gone); its
   * service is forgotten when nothing else holds it.
   */
  removeQueued (job: Job): void {
    job.service.waiting.remove(job)
    this.#left(job)
    this.forgetUnused(job.service)
  }

  /** Empties a service's queue and returns its jobs, oldest first. */
  drainQueue (service: Service): Job[] {
    const jobs = service.waiting.drain()
    for (const job of jobs) this.#left(job)
    return jobs
  }

  /** The jobs of one client waiting, over all services. */
  queuedOf (clientKey: string): Job[] {
    if (!this.queuedByClient.has(clientKey)) return []
    const jobs: Job[] = []
    for (const s of this.services.values()) if (s.waiting.length > 0) jobs.push(...s.waiting.ofClient(clientKey))
    return jobs
  }

  /** The waiting jobs accepted at or before `before` (ms since the epoch), oldest of each service first. */
  queuedSince (before: number): Job[] {
    const jobs: Job[] = []
    if (this.queued === 0) return jobs
    for (const s of this.services.values()) {
      for (let job = s.waiting.peek(); job !== undefined && job.queuedAt <= before; job = job.newer) jobs.push(job)
    }
    return jobs
  }

  /** When the job waiting longest was accepted, over all services or in `service`; `undefined` when none waits. */
  oldestQueuedAt (service?: string): number | undefined {
    if (this.queued === 0) return undefined
    if (service !== undefined) return this.services.get(service)?.waiting.peek()?.queuedAt
    let oldest: number | undefined
    for (const s of this.services.values()) {
      const at = s.waiting.peek()?.queuedAt
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at
    }
    return oldest
  }

  #left (job: Job): void {
    job.waiting = false
    this.queued--
    const n = this.clientQueued(job.clientKey) - 1
    if (n > 0) this.queuedByClient.set(job.clientKey, n)
    else this.queuedByClient.delete(job.clientKey)
  }

  #randomId (): Buffer {
    if (this.#idOffset >= this.#ids.length) {
      this.#ids = randomFillSync(Buffer.allocUnsafe(JOB_ID_BYTES * JOB_IDS_PER_DRAW))
      this.#idOffset = 0
    }
    const frame = this.#ids.subarray(this.#idOffset, this.#idOffset + JOB_ID_BYTES)
    this.#idOffset += JOB_ID_BYTES
    return frame
  }

  /** Records that `worker` holds `job`: one slot fewer, the worker most recently used. */
  assign (worker: Worker, job: Job): void {
    this.unready(worker)
    // Two jobs of one worker whose ids share their first 6 bytes (one chance in 2^48
    // per pair): the newer one draws another id.
    while (worker.jobs.has(jobKey(job.idFrame))) job.idFrame = this.#randomId()
    worker.jobs.set(jobKey(job.idFrame), job)
    worker.freeSlots = Math.max(0, worker.slots - worker.jobs.size)
    job.worker = worker
    job.startedAt = Date.now()
    this.inFlight.set(job.id, job)
    job.service.inFlight++
    if (worker.freeSlots > 0) this.ready(worker)
  }

  /** The job of `worker` whose id frame is `idFrame`, or `undefined`. */
  jobOf (worker: Worker, idFrame: Buffer): Job | undefined {
    const job = worker.jobs.get(jobKey(idFrame))
    return job !== undefined && job.idFrame.equals(idFrame) ? job : undefined
  }

  /**
   * Forgets a job that ended (answered, lost or timed out): out of the jobs in flight,
   * its timer stopped. The slot it holds is freed by {@link BrokerTables.release}.
   */
  endJob (job: Job): void {
    clearTimeout(job.timer)
    job.timer = undefined
    if (this.inFlight.delete(job.id)) {
      job.service.inFlight--
      this.forgetUnused(job.service)
    }
  }

  /**
   * A job ran past `jobTimeout`: it ends ({@link BrokerTables.endJob}), but keeps its
   * slot on its worker until the worker answers it or leaves.
   */
  expire (job: Job): void {
    this.endJob(job)
    job.timedOut = true
    job.worker!.timedOut++
  }

  /** Takes `job` off `worker` and frees its slot (not ready yet: see {@link BrokerTables.ready}). */
  release (worker: Worker, job: Job): void {
    this.unready(worker)
    if (job.worker === worker && worker.jobs.delete(jobKey(job.idFrame))) {
      if (job.timedOut) worker.timedOut--
      job.worker = undefined
      worker.freeSlots = Math.max(0, worker.slots - worker.jobs.size)
    }
  }

  /**
   * Takes every job off a worker that leaves, and returns those still running (not
   * timed out), oldest first.
   */
  releaseAll (worker: Worker): Job[] {
    this.unready(worker)
    const running: Job[] = []
    for (const job of worker.jobs.values()) {
      job.worker = undefined
      if (!job.timedOut) running.push(job)
    }
    worker.jobs.clear()
    worker.timedOut = 0
    worker.freeSlots = worker.slots
    return running
  }

  /** A worker's CREDIT: it takes `slots` jobs at once from now on (not ready yet: see {@link BrokerTables.ready}). */
  setSlots (worker: Worker, slots: number): void {
    this.unready(worker)
    worker.slots = slots
    worker.freeSlots = Math.max(0, slots - worker.jobs.size)
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
  gauges (): Pick<BrokerStats, 'workers' | 'idleWorkers' | 'busyWorkers' | 'slots' | 'slotsInUse' | 'services' | 'queued' | 'queuedByService' | 'inFlight'> {
    let idle = 0
    let slots = 0
    let inUse = 0
    for (const w of this.workers.values()) {
      if (w.jobs.size === 0) idle++
      slots += w.slots
      inUse += w.jobs.size
    }
    // Services with no job waiting are left out.
    const queuedByService: Record<string, number> = {}
    for (const s of this.services.values()) if (s.waiting.length > 0) queuedByService[s.name] = s.waiting.length
    return { workers: this.workers.size, idleWorkers: idle, busyWorkers: this.workers.size - idle, slots, slotsInUse: inUse, services: this.services.size, queued: this.queued, queuedByService, inFlight: this.inFlight.size }
  }

  /** The answer to an MMI `mmi.service` request: whether the service named in `body` has workers. */
  mmiService (body: readonly Buffer[]): Buffer[] {
    const asked = body.length > 0 ? this.services.get(body[0]!.toString()) : undefined
    return asked !== undefined && asked.workers > 0 ? MMI_FOUND : MMI_NOT_FOUND
  }
}

/** A snapshot of a worker, for events and the worker table. */
export function info (w: Worker): WorkerInfo {
  let startedAt: number | undefined
  // Jobs are kept in the order they were sent: the first that runs is the oldest.
  for (const job of w.jobs.values()) {
    if (!job.timedOut) {
      startedAt = job.startedAt
      break
    }
  }
  return {
    id: w.id,
    pid: w.pid,
    services: w.serviceNames,
    extended: w.extended,
    state: w.jobs.size === 0 ? 'idle' : 'busy',
    slots: w.slots,
    jobs: w.jobs.size,
    served: w.served,
    connectedAt: w.connectedAt,
    jobStartedAt: startedAt,
    retiring: w.retiring || w.leaving
  }
}
