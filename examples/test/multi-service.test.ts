import { Client, ClientErrorCode, LazyPirateClient } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { text } from '@net-server/test-support'
import { TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

describe('multi-service.js', () => {
  it('routes each request to the service it names, in every client dialect', async () => {
    // No grace for services no worker offers: an unknown name is a 404 at once.
    const example = await startExample(['examples/multi-service.js', ...TEST_FLAGS, '--service-grace', '0'])
    expect(example.ready.services).toBe('upper,reverse,math.sum')
    const endpoint = example.ready.frontend!

    const client = new Client({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })
    const [reversed, sum, upper] = await Promise.all([
      client.request('reverse', 'stressed'),
      client.request('math.sum', ['1', '2', '3.5']),
      client.request('upper', 'shout')
    ])
    expect([text(reversed), text(sum), text(upper)]).toEqual([['desserts'], ['6.5'], ['SHOUT']])
    await expect(client.request('math.sum', ['one'])).rejects.toMatchObject({
      code: ClientErrorCode.APP_ERROR, detail: 'math.sum takes one number per frame'
    })
    await expect(client.request('nope', 'x')).rejects.toMatchObject({ code: ClientErrorCode.UNKNOWN_SERVICE, status: 404 })

    // An MDP/0.1 client names the service in its request; MMI tells which services exist.
    const mdp = new LazyPirateClient({ endpoint, service: 'math.sum', timeout: 10_000, retries: 0 })
    onTestFinished(() => { mdp.close() })
    expect(text(await mdp.request(['40', '2']))).toEqual(['42'])
    const mmi = new LazyPirateClient({ endpoint, service: 'mmi.service', timeout: 10_000, retries: 0 })
    onTestFinished(() => { mmi.close() })
    expect(text(await mmi.request('reverse'))).toEqual(['200'])
    expect(text(await mmi.request('nope'))).toEqual(['404'])

    // A plain REQ client cannot name a service: it gets the default one, `upper`.
    const req = new LazyPirateClient({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { req.close() })
    expect(text(await req.request('plain'))).toEqual(['PLAIN'])

    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })
})
