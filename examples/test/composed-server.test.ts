import { Client } from '@net-server/client'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { text } from '@net-server/test-support'
import { TEST_FLAGS, requireBuild, startExample } from './support/example.js'

beforeAll(requireBuild)

/** POSTs `body` and resolves with the status and the text of the answer. */
async function post (url: string, body: string): Promise<[number, string]> {
  const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(15_000) })
  return [res.status, await res.text()]
}

describe('composed-server.js', () => {
  it('serves the pool over HTTP and ZeroMQ, logging through the logger in its container', async () => {
    const example = await startExample([
      'examples/composed-server.js', ...TEST_FLAGS, '--http-port', '0', '--log-level', '3', '--service-grace', '0', '--max-message-size', '64'
    ])
    const { http, frontend } = example.ready
    expect(http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    expect(await post(`${http!}/`, 'over http')).toEqual([200, 'OVER HTTP'])
    expect(await Promise.all(['a', 'b', 'c'].map((s) => post(`${http!}/`, s)))).toEqual([[200, 'A'], [200, 'B'], [200, 'C']])
    // The pool's statuses come through: no such service.
    const [status] = await post(`${http!}/nope`, 'x')
    expect(status).toBe(404)
    expect((await fetch(`${http!}/`)).status).toBe(405)
    expect(await post(`${http!}/%E0%A4%A`, 'x')).toEqual([400, 'the path must name a service: /<service>\n'])
    expect(await post(`${http!}/`, 'x'.repeat(65))).toEqual([413, 'the body is larger than 64 bytes\n'])

    // The ZeroMQ frontend serves the same pool.
    const client = new Client({ endpoint: frontend, timeout: 10_000, retries: 0 })
    onTestFinished(() => { client.close() })
    expect(text(await client.request('', 'over zeromq'))).toEqual(['OVER ZEROMQ'])

    // Every line, the broker's and the front's, went through the registered LineLogger.
    const broker = example.proc.pid!
    expect(example.output()).toContain(`composed[${broker}] notice: broker listening`)
    expect(example.output()).toContain(`composed[${broker}] info: http: POST / 200`)
    expect(example.output()).toContain(`composed[${broker}] info: http: POST /nope 404`)
    expect(example.output()).not.toMatch(/^\{"level"/m)

    expect(await example.stop()).toEqual({ code: 0, signal: null })
    // The workers logged through it too, as they stopped.
    expect(example.output()).toMatch(new RegExp(`^composed\\[(?!${broker}\\])\\d+\\] info: child stopped`, 'm'))
  })

  it('stops gracefully on QUIT: the HTTP front closes first, then the pool', async () => {
    const example = await startExample(['examples/composed-server.js', ...TEST_FLAGS, '--http-port', '0'])
    expect(await post(`${example.ready.http!}/`, 'last one')).toEqual([200, 'LAST ONE'])
    expect(await example.stop('SIGQUIT')).toEqual({ code: 0, signal: null })
    // Nothing listens there any more.
    await expect(fetch(`${example.ready.http!}/`, { method: 'POST', body: 'x' })).rejects.toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } })
  })
})
