import { describe, expect, it } from 'vitest'
import { gate, whenOpen } from '@net-server/test-support'

describe('gate', () => {
  it('holds whenOpen until the gate opens, and lets later waiters through at once', async () => {
    const g = gate()
    let opened = false
    const waiting = whenOpen(g.path).then((open) => { opened = open })
    await new Promise((resolve) => setImmediate(resolve))
    expect(opened).toBe(false)
    g.open()
    await waiting
    expect(opened).toBe(true)
    expect(await whenOpen(g.path)).toBe(true)
  })

  it('resolves false when the abort signal fires before the gate opens', async () => {
    const g = gate()
    const abort = new AbortController()
    const waiting = whenOpen(g.path, abort.signal)
    abort.abort()
    expect(await waiting).toBe(false)
    expect(await whenOpen(g.path, abort.signal)).toBe(false)
  })
})
