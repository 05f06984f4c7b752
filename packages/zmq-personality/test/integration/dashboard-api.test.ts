/**
 * The dashboard's API over HTTP, as scripts use it: `GET /api/status`, the live
 * stream at `/api/events`, the page's files, and the answers to wrong methods and
 * paths. The page itself is tested in a browser (`dashboard-browser.test.ts`).
 */
import { request } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { groupGone, tempDir, within } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { runNsz, serve, statusJson } from '../support/cli.js'
import { childPids, serveDashboard, type DashboardServer } from '../support/dashboard.js'

interface Snapshot {
  status: { pid: number, children: Array<{ pid: number }>, limits: { minServers: number } }
  generation: number
  services: Array<{ name: string, workers: number, idle: number, queued: number, oldestWait: number | null }>
  options: Record<string, unknown>
  actionsEnabled: boolean
  errors: Array<{ at: number, kind: string, detail: string, count: number, status?: number }>
  workerEvents: Array<{ event: string, pid?: number }>
  history: { t: number[], jobs: Record<string, number[]> }
}

async function snapshot (s: DashboardServer): Promise<Snapshot> {
  const res = await within(fetch(new URL('api/status', s.url)), 5000, 'an answer from /api/status')
  expect([res.status, res.headers.get('content-type')]).toEqual([200, 'application/json'])
  return await res.json() as Snapshot
}

/** `GET url` with the `Host` header `host` (fetch may not set it): the status and the body. */
async function getWithHost (url: URL, host: string): Promise<[number, string]> {
  return await within(new Promise((resolve, reject) => {
    request(url, { headers: { host } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve([res.statusCode ?? 0, body]) })
    }).on('error', reject).end()
  }), 5000, `an answer from ${url.href}`)
}

/** Reads `/api/status` until `match` holds. */
async function snapshotUntil (s: DashboardServer, match: (snap: Snapshot) => boolean, what: string, timeout = 15_000): Promise<Snapshot> {
  const deadline = Date.now() + timeout
  for (;;) {
    const snap = await snapshot(s)
    if (match(snap)) return snap
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(snap).slice(0, 2000)}`)
  }
}

describe('nsz serve --dashboard: the API', () => {
  it('answers the status as JSON, streams it, serves the page\'s files, and counts rolling restarts', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const s = await serveDashboard(['--min-servers', '1', '--max-servers', '1', '--min-spare-servers', '0', '--job-timeout', '5', '--max-message-size', '1000', '--pid-file', pidFile], 1)
    // nsz dashboard prints the URL; nsz status --json has it too.
    expect(await runNsz(['dashboard', '--pid-file', pidFile])).toEqual({ code: 0, stdout: `${s.url}\n`, stderr: '' })
    expect(await statusJson(pidFile)).toMatchObject({ metricsUrl: `${s.url}metrics`, dashboardUrl: s.url })
    const first = await snapshot(s)
    expect(first.status.pid).toBe(s.pid)
    expect(first.status.children.map((c) => c.pid)).toEqual(childPids(s.pid))
    expect(first).toMatchObject({ generation: 0, actionsEnabled: false, errors: [], options: { minServers: 1, maxServers: 1, jobTimeout: 5000, concurrency: 1 } })
    expect(first.services).toEqual([{ name: 'default', workers: 1, idle: 1, queued: 0, oldestWait: null }])
    expect(first.history.t).toHaveLength(300)

    // One worker, three jobs of 1.5 s: two wait, and the service says so.
    const client = new NszClient(s.frontend)
    const jobs = Promise.all([1, 2, 3].map(() => client.call('default', 'sleep 1500')))
    const busy = await snapshotUntil(s, (snap) => snap.services[0]!.queued === 2, 'two requests waiting')
    expect(busy.services[0]!.idle).toBe(0)
    expect(busy.services[0]!.oldestWait).toBeGreaterThanOrEqual(0)
    expect((await jobs).map((r) => r.status)).toEqual([200, 200, 200])
    const done = await snapshotUntil(s, (snap) => snap.services[0]!.queued === 0, 'the queue empty')
    expect(done.history.jobs['200']!.reduce((a, b) => a + b)).toBe(3)

    // Refused input is among the last errors, with its time.
    const before = Date.now()
    expect((await client.call('default', 'x'.repeat(2000))).status).toBe(413)
    const refused = await snapshotUntil(s, (snap) => snap.errors.length === 1, 'the refusal among the errors')
    expect(refused.errors).toEqual([{ at: expect.any(Number), first: expect.any(Number), kind: 'refused:tooLarge', detail: expect.stringMatching(/1000/), count: 1 }])
    expect(refused.errors[0]!.at).toBeGreaterThanOrEqual(before)
    expect(refused.errors[0]!.at).toBeLessThanOrEqual(Date.now())

    // The live stream: the snapshot at once.
    const abort = new AbortController()
    const res = await within(fetch(new URL('api/events', s.url), { signal: abort.signal }), 5000, 'the stream to open')
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/event-stream'])
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('\n\nevent: status\ndata: ') || !text.endsWith('\n\n')) text += new TextDecoder().decode((await within(reader.read(), 5000, 'the first snapshot')).value)
    expect(text.startsWith('retry: 2000\n\nevent: status\ndata: {')).toBe(true)
    expect((JSON.parse(text.split('data: ')[1]!) as Snapshot).status.pid).toBe(s.pid)
    abort.abort()

    // The page and its files; the other paths and methods.
    const page = await fetch(s.url)
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8'])
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/)
    expect(await page.text()).toContain('<script type="module" src="dashboard.js"></script>')
    for (const file of ['dashboard.js', 'charts.js', 'dashboard.css', 'vendor/uPlot.esm.js', 'vendor/uPlot.min.css']) {
      expect([file, (await fetch(new URL(file, s.url))).status]).toEqual([file, 200])
    }
    const answers = await Promise.all([
      fetch(new URL('api/status', s.url), { method: 'POST' }),
      fetch(new URL('api/actions/more', s.url)),
      fetch(new URL('api/actions/more', s.url), { method: 'POST' }),
      fetch(new URL('nothing', s.url))
    ])
    expect(answers.map((a) => a.status)).toEqual([405, 405, 403, 404])
    expect(await answers[2]!.json()).toEqual({ error: 'actions are off (dashboardActions)' })

    // On loopback, a request for another host name (DNS rebinding) is refused; /metrics is not the dashboard's.
    const rebound = '{"error":"the dashboard listens on loopback and answers requests for localhost or 127.0.0.1 only (a proxy must send such a Host header)"}\n'
    expect(await getWithHost(new URL('api/status', s.url), 'rebound.example')).toEqual([421, rebound])
    expect(await getWithHost(new URL(s.url), 'rebound.example:80')).toEqual([421, rebound])
    expect((await getWithHost(new URL('api/status', s.url), `localhost:${new URL(s.url).port}`))[0]).toBe(200)
    expect((await getWithHost(new URL('metrics', s.url), 'rebound.example'))[0]).toBe(200)

    // HUP: a rolling restart, counted as a generation.
    const [old] = childPids(s.pid)
    s.proc.proc.kill('SIGHUP')
    const restarted = await snapshotUntil(s, (snap) => snap.generation === 1 && snap.status.children.length === 1 && snap.status.children[0]!.pid !== old, 'the restart')
    const fresh = restarted.status.children[0]!.pid
    expect(restarted.workerEvents.filter((e) => e.pid === old && e.event === 'exit')).toEqual([{ event: 'exit', host: 'local', pid: old, reason: 'exit 0', at: expect.any(Number) }])
    // Started before the old one left: it replaces no exited child.
    expect(restarted.workerEvents.filter((e) => e.pid === fresh)).toEqual([{ event: 'spawn', host: 'local', pid: fresh, at: expect.any(Number) }])

    s.proc.proc.kill('SIGTERM')
    expect(await s.proc.exited()).toBe(0)
    await groupGone(s.pid)
  })

  it('nsz dashboard says so when the server serves no dashboard', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc } = await serve(['--min-servers', '0', '--max-servers', '0', '--metrics-port', '0', '--pid-file', pidFile, '--log-level', '1'])
    await proc.line(/^ready workers=0$/)
    expect(await runNsz(['dashboard', '--pid-file', pidFile])).toEqual({ code: 1, stdout: '', stderr: 'nsz: the server serves no dashboard: start it with --metrics-port PORT --dashboard\n' })
    expect((await statusJson(pidFile)).dashboardUrl).toBeUndefined()
    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
  })
})
