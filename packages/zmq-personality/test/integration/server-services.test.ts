import { describe, expect, it } from 'vitest'
import { ClientErrorCode, Status } from '@net-server/client'
import { statusOf, text } from '@net-server/test-support'
import { client, lazyPirate, startServer } from '../support/server.js'

describe('a server of several services', () => {
  it('routes MDP and project requests by service and answers mmi.service', async () => {
    const server = await startServer(['--min-servers', '2'], { kind: 'services' })
    await server.serving(2)
    const c = client(server.frontend)
    expect(text(await c.request('upper', 'abc'))).toEqual(['ABC'])
    expect(text(await c.request('reverse', ['abc', 'xyz']))).toEqual(['cba', 'zyx'])
    expect(text(await lazyPirate(server.frontend, { service: 'upper' }).request('mdp'))).toEqual(['MDP'])
    expect(text(await lazyPirate(server.frontend, { service: 'reverse' }).request('mdp'))).toEqual(['pdm'])
    const mmi = lazyPirate(server.frontend, { service: 'mmi.service' })
    expect(text(await mmi.request('upper'))).toEqual(['200'])
    expect(text(await mmi.request('reverse'))).toEqual(['200'])
    expect(text(await mmi.request('nothing'))).toEqual(['404'])
    // Plain requests go to the default service; a service nobody serves gets 404.
    expect(text(await lazyPirate(server.frontend).request('plain'))).toEqual(['PLAIN'])
    expect(text(await c.request('', 'plain'))).toEqual(['PLAIN'])
    expect(await statusOf(c.request('nothing', 'x'))).toBe(Status.NO_SERVICE)
  })
})

describe('a subclass with its own codec and access hook', () => {
  it('decodes JSON, encodes JSON replies and errors, and refuses with 403', async () => {
    const server = await startServer(['--min-servers', '1'], { kind: 'json' })
    const [pid] = await server.serving(1)
    const c = client(server.frontend)
    const [reply] = await c.request('', JSON.stringify({ numbers: [1, 2, 3.5] }))
    expect(JSON.parse(reply!.toString())).toEqual({ sum: 6.5, pid })
    const failed = await c.request('', JSON.stringify({ numbers: 'no' })).then(
      () => { throw new Error('the request should have failed') },
      (e: unknown) => e as { status: number, detail: string })
    expect(failed).toMatchObject({ status: Status.APP_ERROR })
    expect(JSON.parse(failed.detail)).toEqual({ error: 'numbers must be an array' })
    const denied = await c.request('', JSON.stringify({ numbers: [1], deny: true })).catch((e: unknown) => e as { code: string, status: number })
    expect(denied).toMatchObject({ code: ClientErrorCode.DENIED, status: Status.DENIED })
    // The refusal cost the worker nothing: it serves the next request.
    expect(JSON.parse((await c.request('', JSON.stringify({ numbers: [2, 2] })))[0]!.toString())).toEqual({ sum: 4, pid })
    expect(server.events.filter((e) => e.event === 'childExit')).toEqual([])
  })
})
