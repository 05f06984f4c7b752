import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DashboardStream, MAX_STREAM_CLIENTS, STREAM_TICK_MS } from '../../src/dashboard-stream.js'

/** A response that records what is written to it; `full` makes `write` report a full buffer. */
class FakeResponse extends EventEmitter {
  status = 0
  readonly writes: string[] = []
  ended = false
  destroyed = false
  full = false

  writeHead (status: number): this {
    this.status = status
    return this
  }

  write (chunk: string): boolean {
    this.writes.push(chunk)
    return !this.full
  }

  end (chunk?: string): this {
    if (chunk !== undefined) this.writes.push(chunk)
    this.ended = true
    return this
  }

  destroy (): void {
    this.destroyed = true
    this.emit('close')
  }

  /** The snapshots pushed (`event: status` messages). */
  get pushes (): number {
    return this.writes.filter((w) => w.startsWith('event: status\n')).length
  }
}

const request = { socket: { setNoDelay: () => {} } } as unknown as IncomingMessage

function open (stream: DashboardStream): FakeResponse {
  const res = new FakeResponse()
  stream.open(request, res as unknown as ServerResponse)
  return res
}

describe('DashboardStream', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('runs no timer without a page, ticks while one is connected, and stops when the last one leaves', () => {
    let n = 0
    const stream = new DashboardStream(() => ({ n: ++n }))
    stream.changed()
    expect(vi.getTimerCount()).toBe(0)
    const page = open(stream)
    expect(page.status).toBe(200)
    expect(page.writes[0]).toBe('retry: 2000\n\n')
    expect(page.writes[1]).toBe('event: status\ndata: {"n":1}\n\n')
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(STREAM_TICK_MS * 3)
    expect(page.pushes).toBe(4)
    page.emit('close')
    expect(stream.clients).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    stream.changed()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('pushes soon after a change, once for a burst', () => {
    const stream = new DashboardStream(() => ({}))
    const page = open(stream)
    stream.changed()
    stream.changed()
    stream.changed()
    vi.advanceTimersByTime(STREAM_TICK_MS / 2)
    expect(page.pushes).toBe(2)
    stream.close()
    expect(page.ended).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it(`answers 503 past ${MAX_STREAM_CLIENTS} pages`, () => {
    const stream = new DashboardStream(() => ({}))
    const pages = Array.from({ length: MAX_STREAM_CLIENTS }, () => open(stream))
    expect(pages.every((p) => p.status === 200)).toBe(true)
    const refused = open(stream)
    expect(refused.status).toBe(503)
    expect(refused.ended).toBe(true)
    expect(JSON.parse(refused.writes[0]!)).toEqual({ error: `${MAX_STREAM_CLIENTS} pages are connected already` })
    expect(stream.clients).toBe(MAX_STREAM_CLIENTS)
    pages[0]!.emit('close')
    expect(open(stream).status).toBe(200)
    stream.close()
  })

  it('skips a page that does not read its stream, and drops it when it reads nothing for 10 ticks', () => {
    const stream = new DashboardStream(() => ({}))
    const slow = open(stream)
    const fine = open(stream)
    slow.full = true
    vi.advanceTimersByTime(STREAM_TICK_MS)
    expect(slow.pushes).toBe(2)
    vi.advanceTimersByTime(STREAM_TICK_MS * 9)
    expect(slow.pushes).toBe(2)
    expect(slow.destroyed).toBe(false)
    vi.advanceTimersByTime(STREAM_TICK_MS)
    expect(slow.destroyed).toBe(true)
    expect(fine.pushes).toBe(12)
    expect(stream.clients).toBe(1)
    stream.close()
  })
})
