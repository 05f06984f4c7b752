/**
 * `nsz serve --dashboard` in a real browser (Debian's chromium through playwright-core):
 * the page shows the children the server really has, moves with the jobs, marks a
 * killed worker gone beside its replacement, lists a 504 with its time, and refuses
 * actions unless they are on and the token is given.
 */
import { writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { groupGone, skipWithoutBrowser, tempDir } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { logged, nsz } from '../support/cli.js'
import { fixture } from '../support/fixture.js'
import { childPids, openDashboard, pageUntil, serveDashboard, shownLocalPids, shownWorkers, type DashboardServer } from '../support/dashboard.js'

const TOKEN = 'dashboard-test-token-0123'

// The page's side, for the functions that run in the browser (the tests' types have no DOM).
interface PageCanvas { toDataURL (): string }

/** An action asked from the page's own context, as its buttons do: the status and the body. */
async function postAction (page: Page, action: string, token?: string): Promise<[number, unknown]> {
  return await page.evaluate(async ([name, bearer]) => {
    const res = await fetch(`api/actions/${name}`, { method: 'POST', headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } })
    return [res.status, await res.json()] as [number, unknown]
  }, [action, token] as const)
}

const text = async (page: Page, selector: string): Promise<string> => (await page.textContent(selector)) ?? ''
const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

async function stopServer (s: DashboardServer): Promise<void> {
  s.proc.proc.kill('SIGTERM')
  expect(await s.proc.exited()).toBe(0)
  await groupGone(s.pid)
}

// A browser beside a pool on a busy machine: more time than the suite's default.
describe.skipIf(skipWithoutBrowser('the dashboard\'s browser tests'))('the dashboard in a browser', { timeout: 90_000 }, () => {
  it('shows the children\'s pids, jobs moving the counters and the chart, a killed worker gone and replaced, a 504 among the errors; actions off refuse', async () => {
    const s = await serveDashboard(['--min-servers', '2', '--max-servers', '2', '--min-spare-servers', '0', '--job-timeout', '0.5'], 2)
    const page = await openDashboard(s.url)

    // The pids on the page are the server's own children, read from /proc.
    await pageUntil(page, async () => sameList(await shownLocalPids(page), childPids(s.pid)), 'the server\'s two children')
    const children = childPids(s.pid)
    expect(children).toHaveLength(2)
    expect(await shownLocalPids(page)).toEqual(children)
    expect(await text(page, '#served')).toBe('0')
    expect(await text(page, '#generation')).toBe('0')
    expect(await text(page, '[data-option="jobTimeout"]')).toBe('500 ms')
    const chart = async (): Promise<string> => await page.$eval('#chart-jobs canvas', (c) => (c as unknown as PageCanvas).toDataURL())
    const blank = await chart()

    // Jobs move the counters and the chart.
    const client = new NszClient(s.frontend)
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.call('default', `job ${i}`)))
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))
    await pageUntil(page, async () => (await text(page, '#served')) === '20' && (await page.getAttribute('#chart-jobs', 'data-total')) === '20', '20 jobs served and charted')
    expect(await chart()).not.toBe(blank)

    // A worker killed: shown gone, and its replacement shown as such.
    const victim = children[0]!
    process.kill(victim, 'SIGKILL')
    const replaced = async (): Promise<boolean> => {
      const rows = await shownWorkers(page)
      const now = childPids(s.pid)
      return rows.some((r) => r.pid === victim && r.state === 'gone' && r.marked === 'gone' && r.note.startsWith('exited (SIGKILL)')) &&
        rows.some((r) => r.state !== 'gone' && r.note === `new, replaces ${victim}` && r.marked === 'new' && now.includes(r.pid) && !children.includes(r.pid))
    }
    await pageUntil(page, replaced, `worker ${victim} gone and its replacement`)
    await pageUntil(page, async () => sameList(await shownLocalPids(page), childPids(s.pid)) && childPids(s.pid).length === 2, 'the two children after the replacement')

    // A job past --job-timeout: its 504 among the last errors, with its time.
    expect((await client.call('default', 'hang')).status).toBe(504)
    await pageUntil(page, async () => (await page.$('#errors tbody tr[data-status="504"]')) !== null, 'the 504 among the last errors')
    const row = await page.$$eval('#errors tbody tr[data-status="504"] td', (cells) => cells.map((c) => (c as unknown as { textContent: string }).textContent))
    expect(row.slice(1)).toEqual(['job', '504', 'default', 'job timed out (504)', '1'])
    expect(row[0]).toMatch(/^\d{2}:\d{2}:\d{2}$/)

    // Actions are off: the page offers none, and the endpoints refuse, token or not.
    expect(await page.isHidden('#actions')).toBe(true)
    expect(await postAction(page, 'more')).toEqual([403, { error: 'actions are off (dashboardActions)' }])
    expect(await postAction(page, 'restart', TOKEN)).toEqual([403, { error: 'actions are off (dashboardActions)' }])
    const status = await page.evaluate(async () => await (await fetch('api/status')).json() as { options: Record<string, unknown>, generation: number })
    expect([status.options.minServers, status.options.maxServers, status.generation]).toEqual([2, 2, 0])
    // The first refusal is logged; the next ones of the same kind, within 10 s, are only counted.
    await s.proc.until(() => logged(s.proc, /^dashboard: action 'more' from 127\.0\.0\.1 refused: actions are off \(dashboardActions\)$/).length === 1, 'the refusal in the log')
    await stopServer(s)
  })

  it('with actions on and the token, adds a worker from the page and logs the action; without the token it refuses', async () => {
    const conf = join(tempDir(), 'nsz.conf')
    writeFileSync(conf, `dashboard_token ${TOKEN}\n`, { mode: 0o600 })
    const s = await serveDashboard(['--min-servers', '2', '--max-servers', '2', '--min-spare-servers', '0', '--dashboard-actions', '--conf-file', conf], 2)
    const page = await openDashboard(s.url)
    expect(await page.isVisible('#actions')).toBe(true)

    expect(await postAction(page, 'more')).toEqual([401, { error: 'wrong or missing token' }])
    expect(await postAction(page, 'more', `${TOKEN}x`)).toEqual([401, { error: 'wrong or missing token' }])
    expect(await postAction(page, 'nothing', TOKEN)).toEqual([404, { error: 'no such action (more, fewer, restart)' }])

    await page.fill('#token', TOKEN)
    await page.click('button[data-action="more"]')
    await pageUntil(page, async () => (await text(page, '#action-result')) === 'more: minServers 3, maxServers 3', 'the action\'s result')
    await pageUntil(page, async () => childPids(s.pid).length === 3 && sameList(await shownLocalPids(page), childPids(s.pid)), 'three children')
    await pageUntil(page, async () => (await page.$$('#action-log tbody tr[data-action="more"]')).length === 3, 'the action log')
    const log = await page.$$eval('#action-log tbody tr[data-action="more"] td', (cells) => cells.map((c) => (c as unknown as { textContent: string }).textContent))
    // The newest first: the one taken, then the two refused.
    expect(log.filter((_, i) => i % 4 !== 0)).toEqual([
      'more', '127.0.0.1', 'minServers 3, maxServers 3',
      'more', '127.0.0.1', 'refused: wrong or missing token',
      'more', '127.0.0.1', 'refused: wrong or missing token'
    ])
    await s.proc.until(() => logged(s.proc, /^dashboard: action 'more' from 127\.0\.0\.1: minServers 3, maxServers 3$/).length === 1, 'the action in the log')
    expect(logged(s.proc, /^dashboard: action 'more' from 127\.0\.0\.1 refused: wrong or missing token$/)).toHaveLength(1)
    expect(s.proc.stderr).not.toContain(TOKEN)
    await stopServer(s)
  })

  it('tells the broker\'s own workers from a remote pool\'s, and marks a remote worker that left', async () => {
    // Heartbeats of 0.25 s: a killed worker is missed within a second, a busy machine's pauses are not taken for deaths.
    const s = await serveDashboard(['--min-servers', '1', '--max-servers', '1', '--min-spare-servers', '0', '--insecure-backend', '--heartbeat-interval', '0.25'], 1)
    const pool = nsz(['worker', '--connect', s.backend, '--min-servers', '2', '--max-servers', '2', '--min-spare-servers', '0', '--heartbeat-interval', '0.25', '--log-level', '1', fixture('cli-app.js')])
    await pool.line(/^ready workers=2$/)
    const page = await openDashboard(s.url)

    const remotePids = childPids(pool.pid)
    expect(remotePids).toHaveLength(2)
    const split = async (): Promise<{ local: number[], remote: number[], hosts: string[] }> => {
      const rows = (await shownWorkers(page)).filter((r) => r.state !== 'gone')
      const hosts = await page.$$eval('#workers tbody tr[data-host="remote"]:not(.gone) .badge', (els) => els.map((e) => (e as unknown as { textContent: string }).textContent))
      return { local: rows.filter((r) => r.host === 'local').map((r) => r.pid).sort((a, b) => a - b), remote: rows.filter((r) => r.host === 'remote').map((r) => r.pid).sort((a, b) => a - b), hosts }
    }
    const expected = { local: childPids(s.pid), remote: remotePids, hosts: [`remote ${hostname()}`, `remote ${hostname()}`] }
    await pageUntil(page, async () => JSON.stringify(await split()) === JSON.stringify(expected), `the local child and the two remote workers: ${JSON.stringify(expected)}`)
      .catch(async (err: unknown) => { throw new Error(`${(err as Error).message}; the page shows ${JSON.stringify(await shownWorkers(page))}`) })
    expect(await text(page, '#workers-count')).toBe('1 + 2 remote')

    // A remote worker killed: its broker drops it when a send to it fails or its heartbeats stop, and the page marks it.
    const victim = remotePids[0]!
    process.kill(victim, 'SIGKILL')
    await pageUntil(page, async () => (await shownWorkers(page)).some((r) => r.pid === victim && r.host === 'remote' && r.state === 'gone' && /^left \((unreachable|expired)\) /.test(r.note)),
      `remote worker ${victim} gone`)

    for (const proc of [pool, s.proc]) {
      proc.proc.kill('SIGTERM')
      expect(await proc.exited()).toBe(0)
      await groupGone(proc.pid)
    }
  })
})
