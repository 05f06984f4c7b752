/**
 * The jobs waiting for one service, kept so that workers serve them round-robin across
 * clients: each client has its own first-in first-out lane, and a ring of the clients
 * that have jobs waiting says whose turn is next. The jobs are also linked in the order
 * they arrived, for the {@link WaitingJobs} view and for the queue deadline.
 * @internal
 */
import { Deque } from './deque.js'
import type { DispatchJob, WaitingJobs } from './dispatch.js'

/** What the queue needs of a job: its client's key, and the two links it owns. */
export interface FairJob<J> extends DispatchJob {
  /** The client's routing id as a string: what tells the lanes apart. */
  readonly clientKey: string
  /** The job that arrived just before it, while it waits (the queue's own link). */
  older: J | undefined
  /** The job that arrived just after it, while it waits (the queue's own link). */
  newer: J | undefined
}

/** One client's jobs, oldest first. */
interface Lane<J> {
  readonly key: string
  readonly jobs: Deque<J>
}

/**
 * A service's waiting jobs, served in turn across clients: {@link FairQueue.nextInTurn}
 * is the oldest job of the client whose turn it is, and {@link FairQueue.take} passes
 * the turn to the next client. Every operation is O(1), except taking or removing a job
 * that is neither first nor last of its client (O(that client's jobs)) and removing the
 * last job of a client that is not first in turn (O(clients)).
 */
export class FairQueue<J extends FairJob<J>> implements WaitingJobs {
  readonly #lanes = new Map<string, Lane<J>>()
  /** The clients with jobs waiting; the first one's turn is next. */
  readonly #ring = new Deque<Lane<J>>()
  #oldest: J | undefined
  #newest: J | undefined
  #length = 0

  get length (): number {
    return this.#length
  }

  /** Clients with at least one job waiting. */
  get clients (): number {
    return this.#lanes.size
  }

  /** The job waiting longest (a job sent again counts as the oldest). */
  peek (): J | undefined {
    return this.#oldest
  }

  /** The job whose turn it is: the oldest job of the client first in turn. */
  nextInTurn (): J | undefined {
    return this.#ring.peek()?.jobs.peek()
  }

  /** The job `index` places from the oldest, in the order they arrived; O(index). */
  at (index: number): J | undefined {
    if (index < 0 || index >= this.#length) return undefined
    let job = this.#oldest
    for (let i = 0; i < index; i++) job = job!.newer
    return job
  }

  /** A new job: last of its client's lane; a client that had none waiting joins the ring last. */
  push (job: J): void {
    job.older = this.#newest
    job.newer = undefined
    if (this.#newest === undefined) this.#oldest = job
    else this.#newest.newer = job
    this.#newest = job
    const lane = this.#lanes.get(job.clientKey)
    if (lane !== undefined) lane.jobs.push(job)
    else this.#ring.push(this.#newLane(job))
    this.#length++
  }

  /** A job sent again: first of its lane and of the arrival order; a client that had none waiting is first in turn. */
  unshift (job: J): void {
    job.newer = this.#oldest
    job.older = undefined
    if (this.#oldest === undefined) this.#newest = job
    else this.#oldest.older = job
    this.#oldest = job
    const lane = this.#lanes.get(job.clientKey)
    if (lane !== undefined) lane.jobs.unshift(job)
    else this.#ring.unshift(this.#newLane(job))
    this.#length++
  }

  /** A worker takes `job`: it leaves the queue and its client's turn passes (the client goes last in the ring). */
  take (job: J): boolean {
    const lane = this.#lanes.get(job.clientKey)
    if (lane === undefined || !this.#unlink(lane, job)) return false
    if (this.#ring.peek() === lane) this.#ring.shift()
    else this.#ring.remove(lane)
    if (lane.jobs.length > 0) this.#ring.push(lane)
    else this.#lanes.delete(lane.key)
    return true
  }

  /** Removes `job` (expired, or its client gone) without touching whose turn it is. */
  remove (job: J): boolean {
    const lane = this.#lanes.get(job.clientKey)
    if (lane === undefined || !this.#unlink(lane, job)) return false
    if (lane.jobs.length === 0) {
      this.#ring.remove(lane)
      this.#lanes.delete(lane.key)
    }
    return true
  }

  /** The jobs of one client, oldest first (a copy). */
  ofClient (clientKey: string): J[] {
    const lane = this.#lanes.get(clientKey)
    return lane === undefined ? [] : [...lane.jobs]
  }

  /** Removes every job and returns them in the order they arrived. */
  drain (): J[] {
    const out = [...this]
    for (const job of out) job.older = job.newer = undefined
    this.#lanes.clear()
    this.#ring.drain()
    this.#oldest = this.#newest = undefined
    this.#length = 0
    return out
  }

  /** The jobs in the order they arrived (a job sent again first). */
  * [Symbol.iterator] (): Iterator<J> {
    for (let job = this.#oldest; job !== undefined; job = job.newer) yield job
  }

  #newLane (job: J): Lane<J> {
    const lane = { key: job.clientKey, jobs: new Deque<J>() }
    lane.jobs.push(job)
    this.#lanes.set(lane.key, lane)
    return lane
  }

  #unlink (lane: Lane<J>, job: J): boolean {
    if (!lane.jobs.remove(job)) return false
    const { older, newer } = job
    if (older === undefined) this.#oldest = newer
    else older.newer = newer
    if (newer === undefined) this.#newest = older
    else newer.older = older
    job.older = job.newer = undefined
    this.#length--
    return true
  }
}
