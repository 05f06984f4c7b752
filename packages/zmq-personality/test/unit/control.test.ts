import { describe, expect, it } from 'vitest'
import type { Reply } from 'zeromq'
import { STATUS_CACHE_MS, serveControl } from '../../src/control.js'

/** A REP socket stand-in: yields `commands`, records what is sent. */
function fakeSocket (commands: readonly string[]): { socket: Reply, sent: string[] } {
  const sent: string[] = []
  const socket = {
    closed: false,
    async * [Symbol.asyncIterator] () { for (const c of commands) yield [Buffer.from(c)] },
    async send (reply: string) { sent.push(reply) }
  }
  return { socket: socket as unknown as Reply, sent }
}

describe('serveControl', () => {
  it('computes the status once per cache period however many ask, and names an unknown command', async () => {
    let clock = 1000
    let computed = 0
    const { socket, sent } = fakeSocket([...Array.from({ length: 5 }, () => 'status'), 'reboot', 'status'])
    const status = (): unknown => ({ n: ++computed })
    const now = (): number => {
      // The sixth answer comes one cache period later.
      if (sent.length === 5) clock = 1000 + STATUS_CACHE_MS
      return clock
    }
    await serveControl(socket, status, () => {}, now)
    expect(sent.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => '{"n":1}'))
    expect(sent[5]).toBe(JSON.stringify({ error: "unknown command 'reboot' (try 'status')" }))
    expect(sent[6]).toBe('{"n":2}')
  })
})
