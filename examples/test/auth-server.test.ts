import { Client, ClientErrorCode, LazyPirateClient } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { text } from '@net-server/test-support'
import { TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

describe('auth-server.js', () => {
  it('serves jobs whose first frame is a known token and answers the others 403', async () => {
    const example = await startExample(['examples/auth-server.js', ...TEST_FLAGS, '--tokens', 'alpha,beta'])
    const endpoint = example.ready.frontend!
    const client = new Client({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })

    expect(text(await client.request('', ['alpha', 'hello']))).toEqual(['HELLO'])
    expect(text(await client.request('', ['beta', 'two', 'frames']))).toEqual(['TWO', 'FRAMES'])

    const refused = [['wrong', 'hello'], ['alpha'], ['let-me-in', 'hello'], ['hello']]
    for (const frames of refused) {
      await expect(client.request('', frames), frames.join(' | ')).rejects.toMatchObject({
        code: ClientErrorCode.DENIED,
        status: 403,
        detail: 'a valid token must come first: TOKEN | payload'
      })
    }

    // The token works the same from a plain REQ client; a refusal reaches it as an ERROR 403 reply.
    const req = new LazyPirateClient({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { req.close() })
    expect(text(await req.request(['beta', 'req']))).toEqual(['REQ'])
    await expect(req.request(['gamma', 'req'])).rejects.toMatchObject({ code: ClientErrorCode.DENIED, status: 403 })

    // Refused jobs cost nothing: the workers keep serving.
    expect(text(await client.request('', ['alpha', 'still here']))).toEqual(['STILL HERE'])
    expect(example.output()).toContain('refused: no valid token')
    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })
})
