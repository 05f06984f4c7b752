/**
 * A service's ready workers, in the order the default dispatch policy takes them.
 * @internal
 */
import type { DispatchWorker, ReadyWorkers } from './dispatch.js'

/**
 * The workers of a service that have a free slot, most free slots first, least
 * recently used first among equals: one insertion-ordered Set per free-slot count.
 * A worker's `freeSlots` must not change while it is in the set (take it out first).
 */
export class ReadySet<W extends DispatchWorker = DispatchWorker> implements ReadyWorkers {
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
