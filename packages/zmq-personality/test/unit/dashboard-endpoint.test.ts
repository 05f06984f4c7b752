import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { DashboardEndpoint, type DashboardAccess, type DashboardActionName } from '../../src/dashboard-endpoint.js'

const TOKEN = 'endpoint-test-token-0123'

/** A request as node:http hands it over: method, headers, the client's address. */
function request (method: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method, headers: { host: '127.0.0.1:9464', ...headers }, socket: { remoteAddress: '127.0.0.1', setNoDelay: () => {} }, resume: () => {} } as unknown as IncomingMessage
}

/** A response that keeps its status, headers and body. */
function response (): ServerResponse & { status: number, headers: Record<string, string>, body: string } {
  const res = {
    status: 0,
    headers: {} as Record<string, string>,
    body: '',
    writeHead (status: number, headers: Record<string, string>) {
      res.status = status
      res.headers = headers
      return res
    },
    end (body?: string | Buffer) {
      res.body = body === undefined ? '' : String(body)
      return res
    }
  }
  return res as unknown as ServerResponse & typeof res
}

/** An endpoint whose actions and log go to arrays. */
function endpoint (access: Partial<DashboardAccess> = {}, act: (a: DashboardActionName) => string = (a) => `did ${a}`): { ep: DashboardEndpoint, logs: string[], records: string[] } {
  const logs: string[] = []
  const records: string[] = []
  const ep = new DashboardEndpoint({
    snapshot: () => ({ ok: true }),
    act,
    record: (action, from, result) => { records.push(`${action} ${from} ${result}`) },
    log: (level, message) => { logs.push(`${level} ${message}`) }
  }, { actions: true, token: TOKEN, loopback: true, ...access })
  return { ep, logs, records }
}

function ask (ep: DashboardEndpoint, method: string, path: string, headers: Record<string, string> = {}): ReturnType<typeof response> & { handled: boolean } {
  const res = response()
  const handled = ep.handle(request(method, headers), res, path)
  return Object.assign(res, { handled })
}

describe('DashboardEndpoint', () => {
  it('takes an action for the token as a bearer or in X-Dashboard-Token, logs it and records it', () => {
    const { ep, logs, records } = endpoint()
    const bearer = ask(ep, 'POST', '/api/actions/more', { authorization: `Bearer ${TOKEN}` })
    expect([bearer.status, JSON.parse(bearer.body)]).toEqual([200, { action: 'more', result: 'did more' }])
    const header = ask(ep, 'POST', '/api/actions/restart', { 'x-dashboard-token': TOKEN })
    expect([header.status, JSON.parse(header.body)]).toEqual([200, { action: 'restart', result: 'did restart' }])
    expect(logs).toEqual(["2 dashboard: action 'more' from 127.0.0.1: did more", "2 dashboard: action 'restart' from 127.0.0.1: did restart"])
    expect(records).toEqual(['more 127.0.0.1 did more', 'restart 127.0.0.1 did restart'])
    ep.close()
  })

  it.each<[string, Partial<DashboardAccess>, string, string, Record<string, string>, number, string]>([
    ['actions off', { actions: false }, 'POST', '/api/actions/more', { authorization: `Bearer ${TOKEN}` }, 403, 'actions are off (dashboardActions)'],
    ['no token', {}, 'POST', '/api/actions/more', {}, 401, 'wrong or missing token'],
    ['a wrong token', {}, 'POST', '/api/actions/fewer', { authorization: `Bearer ${TOKEN}x` }, 401, 'wrong or missing token'],
    ['a wrong token in the header', {}, 'POST', '/api/actions/fewer', { 'x-dashboard-token': 'nope' }, 401, 'wrong or missing token'],
    ['an unknown action', {}, 'POST', '/api/actions/delete', { authorization: `Bearer ${TOKEN}` }, 404, 'no such action (more, fewer, restart)'],
    ['GET on an action', {}, 'GET', '/api/actions/more', { authorization: `Bearer ${TOKEN}` }, 405, 'actions answer POST only'],
    ['POST on the status', {}, 'POST', '/api/status', {}, 405, '/api/status answers GET only'],
    ['HEAD on the stream', {}, 'HEAD', '/api/events', {}, 405, '/api/events answers GET only'],
    ['another host name on loopback', {}, 'GET', '/api/status', { host: 'rebound.example' }, 421,
      'the dashboard listens on loopback and answers requests for localhost or 127.0.0.1 only (a proxy must send such a Host header)']
  ])('refuses %s', (_what, access, method, path, headers, status, error) => {
    const acted: string[] = []
    const { ep } = endpoint(access, (a) => { acted.push(a); return 'done' })
    const res = ask(ep, method, path, headers)
    expect([res.handled, res.status, JSON.parse(res.body)]).toEqual([true, status, { error }])
    expect(acted).toEqual([])
    ep.close()
  })

  it('answers the status and the page\'s files, for any host name off loopback, and leaves other paths alone', () => {
    const { ep } = endpoint({ loopback: false })
    const status = ask(ep, 'GET', '/api/status', { host: 'broker.internal:9464' })
    expect([status.status, status.headers['content-type'], JSON.parse(status.body)]).toEqual([200, 'application/json', { ok: true }])
    const page = ask(ep, 'GET', '/', { host: 'broker.internal:9464' })
    expect([page.status, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8'])
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/)
    const head = ask(ep, 'HEAD', '/vendor/uPlot.esm.js')
    expect([head.status, head.body]).toEqual([200, ''])
    expect(ask(ep, 'GET', '/metrics').handled).toBe(false)
    expect(ask(ep, 'GET', '/favicon.ico').handled).toBe(false)
    ep.close()
  })

  it('answers 500 when the action fails, and logs and records the failure', () => {
    const { ep, logs, records } = endpoint({}, () => { throw new Error('the pool is stopping') })
    const res = ask(ep, 'POST', '/api/actions/more', { authorization: `Bearer ${TOKEN}` })
    expect([res.status, JSON.parse(res.body)]).toEqual([500, { error: 'failed: the pool is stopping' }])
    expect(logs).toEqual(["1 dashboard: action 'more' from 127.0.0.1 failed: the pool is stopping"])
    expect(records).toEqual(['more 127.0.0.1 failed: the pool is stopping'])
    ep.close()
  })
})
