import { describe, expect, it } from 'vitest'
import { Deque } from '../../src/deque.js'

describe('Deque', () => {
  it('keeps FIFO order across growth, with unshift at the front', () => {
    const q = new Deque<number>()
    for (let i = 0; i < 40; i++) q.push(i)
    expect(q.shift()).toBe(0)
    q.unshift(-1)
    for (let i = 40; i < 100; i++) q.push(i)
    expect(q.length).toBe(100)
    expect(q.peek()).toBe(-1)
    expect(q.drain()).toEqual([-1, ...Array.from({ length: 99 }, (_, i) => i + 1)])
    expect(q.length).toBe(0)
    expect(q.shift()).toBeUndefined()
  })

  it('wraps around its ring without losing items', () => {
    const q = new Deque<number>()
    const seen: number[] = []
    for (let i = 0; i < 1000; i++) {
      q.push(i)
      if (i % 3 === 0) q.unshift(-i - 1)
      if (q.length > 10) seen.push(q.shift()!)
    }
    seen.push(...q.drain())
    expect(seen).toHaveLength(1000 + 334)
    expect(new Set(seen).size).toBe(seen.length)
  })
})
