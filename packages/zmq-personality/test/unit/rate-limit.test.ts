import { afterEach, describe, expect, it, vi } from 'vitest'
import { RateLimiter } from '../../src/rate-limit.js'

afterEach(() => { vi.useRealTimers() })

describe('the rate-limited log', () => {
  it('writes the first line of a kind at once, then one summary per window while the kind floods', () => {
    vi.useFakeTimers()
    const lines: string[] = []
    const limiter = new RateLimiter((kind, line) => { lines.push(`${kind}: ${line}`) }, 10_000)
    for (let i = 1; i <= 1000; i++) limiter.note('refused:queueFull', `request ${i} refused`)
    limiter.note('strayReply', 'stray 1')
    expect(lines).toEqual(['refused:queueFull: request 1 refused', 'strayReply: stray 1'])
    vi.advanceTimersByTime(10_000)
    expect(lines.slice(2)).toEqual(['refused:queueFull: 999 more in the last 10 s (refused:queueFull), the last: request 1000 refused'])
    // Still flooding: counted in the next window, never written one by one.
    limiter.note('refused:queueFull', 'request 1001 refused')
    limiter.note('refused:queueFull', 'request 1002 refused')
    expect(lines).toHaveLength(3)
    vi.advanceTimersByTime(10_000)
    expect(lines.slice(3)).toEqual(['refused:queueFull: 2 more in the last 10 s (refused:queueFull), the last: request 1002 refused'])
    // A quiet window closes the kind: its next line is written at once.
    vi.advanceTimersByTime(10_000)
    limiter.note('refused:queueFull', 'request 1003 refused')
    expect(lines.at(-1)).toBe('refused:queueFull: request 1003 refused')
    expect(vi.getTimerCount()).toBe(1)
    limiter.close()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('writes the pending summaries on close, and runs no timer when nothing is open', () => {
    vi.useFakeTimers()
    const lines: string[] = []
    const limiter = new RateLimiter((_kind, line) => { lines.push(line) }, 500)
    expect(vi.getTimerCount()).toBe(0)
    limiter.note('k', 'one')
    limiter.note('k', 'two')
    limiter.close()
    expect(lines).toEqual(['one', '1 more in the last 500 ms (k), the last: two'])
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(10_000)
    expect(lines).toHaveLength(2)
  })
})
