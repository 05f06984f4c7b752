import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { text } from '@net-server/test-support'
import { lazyClient, pipelinedClient } from '../support/clients.js'
import { startAgent, startBroker } from '../support/broker.js'

const CLIENTS = 20
const REQUESTS = 200

/** A reply that only this payload can produce. */
const digest = (payload: string): string => createHash('sha256').update(payload).digest('hex').slice(0, 16)

describe('many clients at once', () => {
  it(`gives each of ${CLIENTS} concurrent clients x ${REQUESTS} requests its own replies`, async () => {
    const { broker, frontend, backend } = await startBroker()
    for (let i = 0; i < 4; i++) {
      await startAgent(broker, backend, (job) => {
        const payload = job.body[0]!.toString()
        return [payload, digest(payload)]
      })
    }
    const runs = Array.from({ length: CLIENTS }, async (_, c) => {
      const payloads = Array.from({ length: REQUESTS }, (_, r) => `client-${c}-request-${r}-${Math.random()}`)
      let replies: Buffer[][]
      if (c % 2 === 0) {
        // REQ, one request at a time.
        const client = lazyClient({ endpoint: frontend, timeout: 10_000, retries: 0 })
        replies = []
        for (const p of payloads) replies.push(await client.request(p))
      } else {
        const client = pipelinedClient({ endpoint: frontend, timeout: 10_000, retries: 0, maxInFlight: 64 })
        replies = await Promise.all(payloads.map((p) => client.request('', p)))
      }
      // The replies that are not this client's own, in order.
      return replies.map(text).filter((reply, i) => reply.join('|') !== `${payloads[i]}|${digest(payloads[i]!)}`).length
    })
    expect(await Promise.all(runs)).toEqual(Array.from({ length: CLIENTS }, () => 0))
    expect(broker.stats()).toMatchObject({ accepted: CLIENTS * REQUESTS, served: CLIENTS * REQUESTS, errors: {}, inFlight: 0, queued: 0 })
  })
})
