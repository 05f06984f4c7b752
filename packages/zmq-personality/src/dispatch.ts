/**
 * The broker's dispatch seam: a {@link DispatchPolicy} answers the two questions of
 * load balancing, which ready worker takes a job that arrives, and which waiting job a
 * worker with a free slot takes. The broker asks it at every place where work meets a
 * worker (a new request, a worker that becomes free, a job sent again after its worker
 * was lost) and does the rest: the tables, the timers, the frames.
 *
 * The policy sees the broker's own records through read-only views, so that asking it
 * costs no allocation: a policy must not keep them past its call, nor change them.
 */

/** A job as a {@link DispatchPolicy} sees it. */
export interface DispatchJob {
  /** The broker's job id; ids grow in the order the broker accepted the requests. */
  readonly id: number
  /** The service the job is for. */
  readonly service: DispatchService
  /** The client's routing id on the frontend: what tells one client from another. */
  readonly client: Buffer
  /** When the broker accepted the request (ms since the epoch); kept when the job is sent again. */
  readonly queuedAt: number
}

/**
 * The jobs waiting for a service's workers. Iterated, and indexed by `at`, in the order
 * they arrived (a job sent again goes first); each client's jobs also form a lane of
 * their own, and the lanes take turns: {@link WaitingJobs.nextInTurn} is the oldest job
 * of the client whose turn it is, and a job taken passes its client's turn.
 */
export interface WaitingJobs extends Iterable<DispatchJob> {
  readonly length: number
  /** Clients with at least one job waiting. */
  readonly clients: number
  /** The first job, the one waiting longest; `undefined` when none waits. */
  peek (): DispatchJob | undefined
  /** The job whose turn it is, in O(1): the oldest job of the client first in turn; `undefined` when none waits. */
  nextInTurn (): DispatchJob | undefined
  /** The job `index` places from the front, in O(index); `undefined` past the end. */
  at (index: number): DispatchJob | undefined
}

/** A service as a {@link DispatchPolicy} sees it. */
export interface DispatchService {
  readonly name: string
  readonly waiting: WaitingJobs
}

/** A worker as a {@link DispatchPolicy} sees it. */
export interface DispatchWorker {
  /** The worker's routing id, in hex (as in `WorkerInfo.id`). */
  readonly id: string
  /** The worker's pid, when it announced the project's extension. */
  readonly pid: number | undefined
  /** The services it serves, the READY service first, each with its waiting jobs. */
  readonly services: readonly DispatchService[]
  /** Jobs it may hold at once. */
  readonly slots: number
  /** Slots that hold no job: the broker never sends it more jobs than this. */
  readonly freeSlots: number
  /** Jobs it has answered. */
  readonly served: number
}

/**
 * The workers of a service that have a free slot, in the order the default policy
 * takes them: most free slots first, least recently used first among equals (the one
 * that got a job, or joined, longest ago).
 */
export interface ReadyWorkers extends Iterable<DispatchWorker> {
  readonly size: number
  /** The first worker in that order, in O(1); `undefined` when none is ready. */
  first (): DispatchWorker | undefined
  /** True when `worker` is one of them. */
  has (worker: DispatchWorker): boolean
}

/**
 * Decides which worker takes which job. Both methods run on the broker's per-request
 * path: they must be quick and should not throw. The broker checks each answer: when a
 * method throws, or answers a worker that is not ready or a job the worker cannot take,
 * the broker emits `error` and {@link leastRecentlyUsed} decides instead. Work that a
 * policy leaves unplaced (`undefined`) waits: a job that no ready worker takes is queued
 * (or gets 503 past `maxQueue`) until a worker that becomes free takes it, and a worker
 * that takes no job waits until the next job arrives.
 *
 * @example
 * ```ts
 * // Newest first: a worker that becomes free takes the job of its READY service
 * // that arrived last.
 * const newestFirst: DispatchPolicy = {
 *   pickWorker: (_job, workers) => workers.first(),
 *   pickJob: (_worker, [first]) => first?.waiting.at(first.waiting.length - 1)
 * }
 * const broker = new Broker({ dispatchPolicy: newestFirst })
 * ```
 */
export interface DispatchPolicy {
  /**
   * A job arrived, or comes back after its worker was lost: the ready worker that takes
   * it, among `workers` (the workers of the job's service with a free slot, never
   * empty), or `undefined` to queue it.
   */
  pickWorker (job: DispatchJob, workers: ReadyWorkers): DispatchWorker | undefined
  /**
   * A worker has a free slot (it joined, or answered a job): the waiting job it takes,
   * from the queues of `services` (the worker's own, at least one of them with a job
   * waiting), or `undefined` to leave it ready.
   */
  pickJob (worker: DispatchWorker, services: readonly DispatchService[]): DispatchJob | undefined
}

/**
 * The default policy: a job goes to the ready worker with the most free slots, the least
 * recently used among equals (with one slot each, the worker that has waited longest).
 * A free worker takes the job whose turn it is in each of its services (round-robin
 * across clients: the oldest job of the next client in turn), the oldest of those when
 * it serves several. O(1) for a new job whatever the number of workers, O(services of
 * the worker) for a free one, whatever the number of jobs or clients waiting.
 */
export const leastRecentlyUsed: DispatchPolicy = Object.freeze({
  pickWorker: (_job: DispatchJob, workers: ReadyWorkers) => workers.first(),
  pickJob: (_worker: DispatchWorker, services: readonly DispatchService[]) => {
    let oldest: DispatchJob | undefined
    for (let i = 0; i < services.length; i++) {
      const head = services[i]!.waiting.nextInTurn()
      if (head !== undefined && (oldest === undefined || head.id < oldest.id)) oldest = head
    }
    return oldest
  }
})

/**
 * Checks the `dispatchPolicy` option: `undefined` (the default policy applies) or an
 * object with `pickWorker` and `pickJob` methods. Throws a TypeError naming the option.
 */
export function checkDispatchPolicy (value: unknown, name = 'dispatchPolicy'): DispatchPolicy | undefined {
  if (value === undefined) return undefined
  const policy = value as Partial<DispatchPolicy> | null
  if (typeof policy !== 'object' || policy === null || typeof policy.pickWorker !== 'function' || typeof policy.pickJob !== 'function') {
    throw new TypeError(`options.${name} must be an object with pickWorker and pickJob methods (a DispatchPolicy)`)
  }
  return policy as DispatchPolicy
}
