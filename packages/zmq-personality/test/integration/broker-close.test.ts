/**
 * What a closing broker does with the requests still on their way: each is read and
 * answered 503 until the frontend has been quiet, within `linger`, and the replies are
 * flushed before the sockets go.
 */
import { describe, expect, it } from 'vitest'
import { Status, decodeNszReply, encodeNszRequest, isDecodeError } from '@net-server/client'
import { b, deferred, within } from '@net-server/test-support'
import { dealer, startAgent, startBroker } from '../support/broker.js'

/** Reads replies of the project dialect from `socket` until `count` have come; resolves with their statuses by request id. */
async function replies (socket: ReturnType<typeof dealer>, count: number): Promise<Map<string, number[]>> {
  const seen = new Map<string, number[]>()
  for (let n = 0; n < count; n++) {
    const reply = decodeNszReply(await socket.receive())
    if (isDecodeError(reply)) throw new Error(`a reply that does not decode: ${reply.error}`)
    const id = reply.requestId.toString()
    seen.set(id, [...seen.get(id) ?? [], reply.status])
  }
  return seen
}

describe('a broker that closes', () => {
  it('answers 503 to every request sent just before close(), none of them dropped with the socket', async () => {
    const { broker, frontend } = await startBroker({ serviceGrace: 0, services: ['default'] })
    const socket = dealer(frontend)
    // One served request first: the connection is up, so the next ones are on the wire at once.
    await socket.send(encodeNszRequest('mmi.service', b('probe'), 'default'))
    expect((await replies(socket, 1)).get('probe')).toEqual([Status.OK])
    const ids = Array.from({ length: 50 }, (_, i) => String(i))
    for (const id of ids) await socket.send(encodeNszRequest('default', b(id), `job ${id}`))
    // close() comes before the broker has read them: they are in libzmq's pipes or on the wire.
    const closed = broker.close()
    const seen = await within(replies(socket, ids.length), 5000, 'a reply to each of the 50 requests')
    await closed
    expect([...seen.keys()].sort()).toEqual([...ids].sort())
    expect([...seen.values()].every((statuses) => statuses.length === 1 && statuses[0] === Status.UNAVAILABLE)).toBe(true)
  })

  it('answers 503 to a client that sends without pause while it closes, and closes within linger even so', async () => {
    const { broker, frontend, backend } = await startBroker({ linger: 200 })
    await startAgent(broker, backend, (job) => job.body)
    const socket = dealer(frontend)
    const replies = new Map<string, number[]>()
    const sentWhileClosing = new Set<string>()
    const warm = deferred()
    let next = 0
    let closing = false
    const send = async (): Promise<void> => {
      const id = String(next++)
      if (closing) sentWhileClosing.add(id)
      await socket.send(encodeNszRequest('default', b(id), 'x'))
    }
    // Each reply sends the next request, four at a time: the frontend is never quiet.
    const load = (async () => {
      for (let i = 0; i < 4; i++) await send()
      for (;;) {
        const reply = decodeNszReply(await socket.receive())
        if (isDecodeError(reply)) throw new Error(`a reply that does not decode: ${reply.error}`)
        const id = reply.requestId.toString()
        replies.set(id, [...replies.get(id) ?? [], reply.status])
        if (replies.size === 200) warm.resolve()
        await send()
      }
    })()
    await within(warm.promise, 10_000, '200 replies')
    closing = true
    const started = Date.now()
    await within(broker.close(), 2000, 'close() under load')
    expect(Date.now() - started).toBeLessThan(1000)
    socket.close()
    // The load's pending receive fails with the socket the test just closed.
    await load.catch(() => {})
    const late = [...sentWhileClosing].filter((id) => replies.has(id))
    expect(late.length).toBeGreaterThan(0)
    expect(late.map((id) => replies.get(id))).toEqual(late.map(() => [Status.UNAVAILABLE]))
    expect([...replies.values()].filter((statuses) => statuses.length !== 1)).toEqual([])
  })
})
