/**
 * A double-ended queue on a growable ring buffer: O(1) push, shift and unshift, no
 * per-item allocation. The broker keeps its per-service request queues in it.
 * @internal
 */
export class Deque<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(16)
  #head = 0
  #length = 0

  /** Number of items. */
  get length (): number {
    return this.#length
  }

  /** Appends an item at the back. */
  push (item: T): void {
    if (this.#length === this.#items.length) this.#grow()
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item
    this.#length++
  }

  /** Inserts an item at the front. */
  unshift (item: T): void {
    if (this.#length === this.#items.length) this.#grow()
    this.#head = (this.#head - 1) & (this.#items.length - 1)
    this.#items[this.#head] = item
    this.#length++
  }

  /** Removes and returns the front item. */
  shift (): T | undefined {
    if (this.#length === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#items.length - 1)
    this.#length--
    return item
  }

  /** The front item, left in place. */
  peek (): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head]
  }

  /** Removes every item and returns them, front first. */
  drain (): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }

  #grow (): void {
    const size = this.#items.length
    const next = new Array<T | undefined>(size * 2)
    for (let i = 0; i < this.#length; i++) next[i] = this.#items[(this.#head + i) & (size - 1)]
    this.#items = next
    this.#head = 0
  }
}
