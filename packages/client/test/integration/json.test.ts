import { describe, expect, it } from 'vitest'
import { ClientErrorCode, Status, jsonClient, requestJson, requestJsonLazy, encodeJson, decodeJson } from '@net-server/client'
import { rejection } from '@net-server/test-support'
import { lazyClient, pipelinedClient } from '../support/clients.js'
import { startBroker } from '../support/fake-broker.js'

describe('JSON helpers', () => {
  it('encode the request and decode the reply, with either client', async () => {
    const broker = await startBroker()
    broker.handler = (r) => {
      const { a, b } = JSON.parse(r.request.body[0]!.toString())
      return { status: Status.OK, body: [encodeJson({ sum: a + b, service: r.request.service })] }
    }
    const client = pipelinedClient({ endpoint: broker.endpoint })
    expect(await requestJson(client, 'add', { a: 1, b: 2 })).toEqual({ sum: 3, service: 'add' })
    expect(await jsonClient(client).request<{ sum: number }>('add', { a: 40, b: 2 })).toEqual({ sum: 42, service: 'add' })
    const lazy = lazyClient({ endpoint: broker.endpoint })
    expect(await requestJsonLazy(lazy, { a: 'x', b: 'y' })).toEqual({ sum: 'xy', service: 'default' })
  })

  it('reject a reply that is not JSON with NSZ_ERR_CLIENT_BAD_REPLY', async () => {
    const broker = await startBroker()
    const client = pipelinedClient({ endpoint: broker.endpoint })
    broker.handler = () => ({ status: Status.OK, body: [Buffer.from('{oops')] })
    const err = await rejection(requestJson(client, 's', 1))
    expect(err.code).toBe(ClientErrorCode.BAD_REPLY)
    expect(err.cause).toBeInstanceOf(SyntaxError)
  })

  it('pass failures through unchanged', async () => {
    const broker = await startBroker()
    const client = pipelinedClient({ endpoint: broker.endpoint })
    broker.handler = () => ({ status: Status.APP_ERROR, body: [Buffer.from('bad input')] })
    expect(await rejection(requestJson(client, 's', 1))).toMatchObject({ code: ClientErrorCode.APP_ERROR, detail: 'bad input' })
  })

  it('refuse a value JSON cannot carry, and decode a reply split over frames', () => {
    const refused = new TypeError('value must be JSON-serializable (got undefined, a function or a symbol)')
    expect(() => encodeJson(undefined)).toThrow(refused)
    expect(() => encodeJson(() => 1)).toThrow(refused)
    expect(decodeJson([Buffer.from('{"a":'), Buffer.from('[1,2]}')])).toEqual({ a: [1, 2] })
  })
})
