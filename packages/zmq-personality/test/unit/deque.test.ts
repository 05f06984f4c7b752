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

  it('reads items in place and removes one from the front, the back or between, across the ring', () => {
    const q = new Deque<number>()
    for (let i = 0; i < 12; i++) q.push(i)
    for (let i = 0; i < 10; i++) q.shift()
    for (let i = 12; i < 22; i++) q.push(i)
    // 10..21 from a head near the end of its 16-slot ring: the back has wrapped to the start.
    expect([...q]).toEqual(Array.from({ length: 12 }, (_, i) => i + 10))
    expect(q.at(0)).toBe(10)
    expect(q.at(11)).toBe(21)
    expect(q.at(12)).toBeUndefined()
    expect(q.at(-1)).toBeUndefined()
    expect(q.remove(10)).toBe(true)
    expect(q.remove(21)).toBe(true)
    expect(q.remove(14)).toBe(true)
    expect(q.remove(99)).toBe(false)
    expect(q.length).toBe(9)
    expect(q.drain()).toEqual([11, 12, 13, 15, 16, 17, 18, 19, 20])
    expect(q.remove(1)).toBe(false)
    q.push(5)
    expect(q.remove(5)).toBe(true)
    expect(q.length).toBe(0)
  })

  it('pops from the back, across the wrap of its ring, and leaves the front in place', () => {
    const q = new Deque<number>()
    expect(q.pop()).toBeUndefined()
    for (let i = 0; i < 14; i++) q.push(i)
    for (let i = 0; i < 12; i++) q.shift()
    for (let i = 14; i < 20; i++) q.push(i)
    // 12..19 from a head near the end of its 16-slot ring: the back has wrapped to the start.
    expect(q.pop()).toBe(19)
    expect(q.pop()).toBe(18)
    expect(q.length).toBe(6)
    expect(q.peek()).toBe(12)
    expect([...q]).toEqual([12, 13, 14, 15, 16, 17])
    q.push(30)
    expect(q.pop()).toBe(30)
  })
})
