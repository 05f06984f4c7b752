/**
 * A double-ended queue on a growable ring buffer: O(1) push, shift and unshift, no
 * per-item allocation. The broker keeps its per-service request queues in it.
 * @internal
 */
export class Deque<T> implements Iterable<T> {
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

  /** Removes and returns the back item. */
  pop (): T | undefined {
    if (this.#length === 0) return undefined
    const i = (this.#head + this.#length - 1) & (this.#items.length - 1)
    const item = this.#items[i]
    this.#items[i] = undefined
    this.#length--
    return item
  }

  /** The front item, left in place. */
  peek (): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head]
  }

  /** The item `index` places from the front, left in place; `undefined` past the end. */
  at (index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined
    return this.#items[(this.#head + index) & (this.#items.length - 1)]
  }

  /** Removes `item`: O(1) at either end, O(n) in between. Returns false when it is not here. */
  remove (item: T): boolean {
    if (this.#length === 0) return false
    if (this.#items[this.#head] === item) {
      this.shift()
      return true
    }
    const mask = this.#items.length - 1
    let i = this.#length - 1
    while (i > 0 && this.#items[(this.#head + i) & mask] !== item) i--
    if (i === 0) return false
    // Close the gap from the back: the items behind it move one place forward.
    for (; i < this.#length - 1; i++) this.#items[(this.#head + i) & mask] = this.#items[(this.#head + i + 1) & mask]
    this.#items[(this.#head + this.#length - 1) & mask] = undefined
    this.#length--
    return true
  }

  /** The items, front first. */
  * [Symbol.iterator] (): Iterator<T> {
    for (let i = 0; i < this.#length; i++) yield this.#items[(this.#head + i) & (this.#items.length - 1)]!
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
