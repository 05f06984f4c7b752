import { describe, expect, it } from 'vitest'
import { HISTORY_SECONDS, JobHistory } from '../../src/dashboard-history.js'
import { DashboardState, MAX_ERRORS, RECENT_MS } from '../../src/dashboard-state.js'
import { isLoopbackHost } from '../../src/dashboard-endpoint.js'

/** A clock the test moves. */
function clock (start = 1_700_000_000_000): { now: () => number, advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms } }
}

describe('JobHistory', () => {
  it('counts jobs per second by status, 200 always among them, and zero for the seconds with none', () => {
    const c = clock()
    const h = new JobHistory(c.now)
    h.jobEnded(200, 5)
    h.jobEnded(200, 7)
    c.advance(2000)
    h.jobEnded(504, 1000)
    const cols = h.columns()
    expect(cols.t).toHaveLength(HISTORY_SECONDS)
    expect(cols.t.at(-1)).toBe(Math.floor(c.now() / 1000))
    expect(Object.keys(cols.jobs)).toEqual(['200', '504'])
    expect(cols.jobs['200']!.slice(-3)).toEqual([2, 0, 0])
    expect(cols.jobs['504']!.slice(-3)).toEqual([0, 0, 1])
    expect(cols.p50.slice(-3)).toEqual([5, null, 1000])
    expect(cols.p99.slice(-3)).toEqual([7, null, 1000])
    expect(new JobHistory(c.now).columns().jobs).toEqual({ 200: Array(HISTORY_SECONDS).fill(0) })
  })

  it('forgets what is older than its window', () => {
    const c = clock()
    const h = new JobHistory(c.now)
    h.jobEnded(500, 1)
    c.advance(HISTORY_SECONDS * 1000)
    h.jobEnded(200, 1)
    const cols = h.columns()
    expect(Object.keys(cols.jobs)).toEqual(['200'])
    expect(cols.jobs['200']!.reduce((a, b) => a + b)).toBe(1)
  })

  it('keeps a bounded sample of run times per second, and its quantiles stay within the values seen', () => {
    const c = clock()
    const h = new JobHistory(c.now, () => 0.5)
    for (let i = 1; i <= 10_000; i++) h.jobEnded(200, i % 100)
    const cols = h.columns()
    expect(cols.jobs['200']!.at(-1)).toBe(10_000)
    expect(cols.p50.at(-1)).toBeGreaterThanOrEqual(0)
    expect(cols.p99.at(-1)).toBeLessThan(100)
  })

  it('shows the highest queue depth read in a second, and carries the last reading on', () => {
    const c = clock()
    const h = new JobHistory(c.now)
    h.queueDepth(3)
    h.queueDepth(9)
    h.queueDepth(4)
    expect(h.queueReadThisSecond()).toBe(true)
    c.advance(3000)
    expect(h.queueReadThisSecond()).toBe(false)
    expect(h.columns().queue.slice(-4)).toEqual([9, 4, 4, 4])
  })
})

describe('DashboardState', () => {
  it('lists 5xx jobs and losses as errors with their time, coalescing a burst of the same, within a bounded list', () => {
    const c = clock()
    const s = new DashboardState(c.now)
    let changes = 0
    s.onChange(() => { changes++ })
    s.jobEnded('default', 200, 0.001)
    s.jobEnded('default', 504, 1)
    s.jobEnded('default', 504, 1)
    c.advance(5000)
    s.error('refused:malformed', 'no delimiter')
    const { errors } = s.memory()
    expect(errors).toEqual([
      { at: c.now() - 5000, first: c.now() - 5000, kind: 'job', status: 504, service: 'default', detail: 'job timed out (504)', count: 2 },
      { at: c.now(), first: c.now(), kind: 'refused:malformed', detail: 'no delimiter', count: 1 }
    ])
    expect(changes).toBe(3)
    for (let i = 0; i < MAX_ERRORS * 2; i++) s.error('refused:tooLarge', `request ${i}`)
    const kept = s.memory().errors
    expect(kept).toHaveLength(MAX_ERRORS)
    expect(kept.at(-1)!.detail).toBe(`request ${MAX_ERRORS * 2 - 1}`)
  })

  it('tells which new child replaces which exited one, and forgets worker events after a while', () => {
    const c = clock()
    const s = new DashboardState(c.now)
    s.childSpawned(10)
    s.childExited(10, null, 'SIGKILL', false)
    s.childSpawned(11)
    // A child the pool stopped (TTOU, restart) owes no replacement.
    s.childExited(11, 0, null, true)
    s.childSpawned(12)
    expect(s.memory().workerEvents).toEqual([
      { at: c.now(), event: 'spawn', host: 'local', pid: 10 },
      { at: c.now(), event: 'exit', host: 'local', pid: 10, reason: 'SIGKILL' },
      { at: c.now(), event: 'spawn', host: 'local', pid: 11, replaces: 10 },
      { at: c.now(), event: 'exit', host: 'local', pid: 11, reason: 'exit 0' },
      { at: c.now(), event: 'spawn', host: 'local', pid: 12 }
    ])
    c.advance(RECENT_MS + 1)
    expect(s.memory().workerEvents).toEqual([])
  })
})

describe('isLoopbackHost', () => {
  it.each<[string | undefined, boolean]>([
    ['127.0.0.1:9464', true], ['127.0.0.1', true], ['127.1.2.3:80', true], ['localhost:9464', true], ['localhost', true], ['[::1]:9464', true], ['[::1]', true],
    ['rebound.example:9464', false], ['127.0.0.1.example', false], ['10.0.0.1:9464', false], ['[::2]:9464', false], ['', false], [undefined, false]
  ])('%j: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback)
  })
})
