import { Client } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { text } from '@net-server/test-support'
import { TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

describe('io-server.js', () => {
  it('runs several jobs at once in each worker, never more than its slots', async () => {
    const example = await startExample(['examples/io-server.js', ...TEST_FLAGS, '--max-servers', '2', '--concurrency', '8'])
    expect(example.ready.concurrency).toBe('8')
    const client = new Client({ endpoint: example.ready.frontend!, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })
    const words = Array.from({ length: 16 }, (_, i) => `word${i}`)
    const replies = (await Promise.all(words.map(async (w) => text(await client.request('', w))[0]!)))
    const busy = replies.map((reply, i) => {
      const match = /^(\S+): (\d+) letters \((\d+) of 8 slots busy\)$/.exec(reply)
      expect(match, reply).not.toBeNull()
      expect(match![1]).toBe(words[i])
      return Number(match![3])
    })
    // The jobs overlapped in their workers, and no worker held more than its 8 slots.
    expect(Math.max(...busy)).toBeGreaterThan(1)
    expect(Math.max(...busy)).toBeLessThanOrEqual(8)
    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })
})
