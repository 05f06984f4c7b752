import { createHash } from 'node:crypto'
import { Client, ClientErrorCode, LazyPirateClient } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { text } from '@net-server/test-support'
import { NSZ, TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

describe('command-server.js', () => {
  it('routes on the first frame, answers several frames, and 400 for what it cannot do', async () => {
    const example = await startExample(['examples/command-server.js', ...TEST_FLAGS])
    expect(example.ready.commands).toBe('words,hash,pid')
    const client = new Client({ endpoint: example.ready.frontend, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })

    expect(text(await client.request('', ['words', 'to be  or', 'not']))).toEqual(['to', 'be', 'or', 'not'])
    expect(text(await client.request('', ['hash', 'sha256', 'a', 'b']))).toEqual([sha256('a'), sha256('b')])
    const [pid] = text(await client.request('', ['pid']))
    expect(Number(pid)).toBeGreaterThan(0)
    expect(Number(pid)).not.toBe(example.proc.pid) // a worker answered, not the broker

    await expect(client.request('', ['nope', 'x'])).rejects.toMatchObject({
      code: ClientErrorCode.MALFORMED, status: 400, detail: "unknown command 'nope' (commands: words, hash, pid)"
    })
    await expect(client.request('', ['hash', 'no-such-digest', 'a'])).rejects.toMatchObject({
      code: ClientErrorCode.MALFORMED, status: 400, detail: "unknown hash algorithm 'no-such-digest'"
    })
    await expect(client.request('', ['words'])).rejects.toMatchObject({
      code: ClientErrorCode.MALFORMED, status: 400, detail: 'usage: words TEXT…'
    })
    // A name on Object's prototype is not a command.
    await expect(client.request('', ['constructor'])).rejects.toMatchObject({ code: ClientErrorCode.MALFORMED, status: 400 })

    // A plain REQ client sees the frames; the status is for clients that speak the project's dialect.
    const req = new LazyPirateClient({ endpoint: example.ready.frontend, timeout: 10_000, retries: 0 })
    onTestFinished(() => { req.close() })
    expect(text(await req.request(['words', 'plain request']))).toEqual(['plain', 'request'])

    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })

  it('nsz serves the class that command-server.js exports', async () => {
    const example = await startExample([NSZ, 'serve', ...TEST_FLAGS, 'examples/command-server.js'])
    const client = new Client({ endpoint: example.ready.frontend, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })
    expect(text(await client.request('', ['words', 'served by nsz']))).toEqual(['served', 'by', 'nsz'])
    await expect(client.request('', [])).rejects.toMatchObject({ code: ClientErrorCode.MALFORMED, status: 400 })
    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })
})
