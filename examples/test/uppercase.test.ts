import { Client, LazyPirateClient } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { text } from '@net-server/test-support'
import { NSZ, TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

describe('the upper-case demo', () => {
  it('nsz serves examples/uppercase.js to plain REQ and pipelined clients', async () => {
    const example = await startExample([NSZ, 'serve', ...TEST_FLAGS, 'examples/uppercase.js'])
    const endpoint = example.ready.frontend!

    // A plain REQ client, as the seed's zmq-client is.
    const req = new LazyPirateClient({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { req.close() })
    expect(text(await req.request('hello, world'))).toEqual(['HELLO, WORLD'])

    const client = new Client({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })
    const replies = await Promise.all(['a', 'b', 'c'].map((s) => client.request('', s)))
    expect(replies.map(text)).toEqual([['A'], ['B'], ['C']])
    expect(text(await client.request('', ['two', 'frames']))).toEqual(['TWO', 'FRAMES'])

    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })

  it('uppercase-server.js runs the synopsis, its flags overriding the run() options', async () => {
    const example = await startExample(['examples/uppercase-server.js', ...TEST_FLAGS])
    expect(example.ready.frontend).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    expect(example.ready.frontend).not.toBe('tcp://127.0.0.1:6660')

    const client = new Client({ endpoint: example.ready.frontend, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })
    expect(text(await client.request('', 'job server'))).toEqual(['JOB SERVER'])

    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })
})
