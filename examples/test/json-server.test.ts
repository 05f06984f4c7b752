import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Client, ClientErrorCode, LazyPirateClient, jsonClient } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ROOT, text } from '@net-server/test-support'
import { NSZ, TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

describe('json-server.js', () => {
  it('answers JSON, a failed job with 500 and a JSON body, a non-JSON body with 400', async () => {
    const example = await startExample(['examples/json-server.js', ...TEST_FLAGS])
    const endpoint = example.ready.frontend!
    const api = jsonClient(new Client({ endpoint, timeout: 10_000, retries: 0 }))
    onTestFinished(() => { api.client.close() })

    const reply = await api.request<{ greeting: string, worker: number }>('', { name: 'Ada' })
    expect(reply.greeting).toBe('Hello, Ada!')
    expect(reply.worker).not.toBe(example.proc.pid) // a worker answered, not the broker

    const failed = await api.request('', { name: 42 }).catch((err: unknown) => err)
    expect(failed).toMatchObject({ code: ClientErrorCode.APP_ERROR, status: 500 })
    expect(JSON.parse((failed as { detail: string }).detail)).toEqual({ error: 'name must be a non-empty string' })

    const malformed = await api.client.request('', '{not json').catch((err: unknown) => err)
    expect(malformed).toMatchObject({ code: ClientErrorCode.MALFORMED, status: 400 })
    expect(JSON.parse((malformed as { detail: string }).detail).error).toMatch(/^request is not JSON: /)

    // A plain REQ client gets the same JSON: the broker does not care about the format.
    const req = new LazyPirateClient({ endpoint, timeout: 10_000, retries: 0 })
    onTestFinished(() => { req.close() })
    expect(JSON.parse(text(await req.request('{"name":"Grace"}'))[0]!)).toMatchObject({ greeting: 'Hello, Grace!' })

    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })

  it('json-client.js prints the greeting and the JSON error', async () => {
    const example = await startExample(['examples/json-server.js', ...TEST_FLAGS])
    const { stdout } = await promisify(execFile)(process.execPath, ['examples/json-client.js', example.ready.frontend!], { cwd: ROOT, timeout: 15_000 })
    const [greeting, error] = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(greeting).toMatchObject({ greeting: 'Hello, Ada!' })
    expect(error).toEqual({ status: 500, body: { error: 'name must be a non-empty string' } })
    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })

  it('nsz serves the class that json-server.js exports', async () => {
    const example = await startExample([NSZ, 'serve', ...TEST_FLAGS, 'examples/json-server.js'])
    const api = jsonClient(new Client({ endpoint: example.ready.frontend, timeout: 10_000, retries: 0 }))
    onTestFinished(() => { api.client.close() })
    expect(await api.request('', { name: 'Linus' })).toMatchObject({ greeting: 'Hello, Linus!' })
    expect(await example.stop()).toEqual({ code: 0, signal: null })
  })
})
