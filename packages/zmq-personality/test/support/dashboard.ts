/**
 * The dashboard as a user sees it: `nsz serve --dashboard` started for real, and its
 * page opened in Debian's chromium through playwright-core (no browser download).
 */
import { readFileSync } from 'node:fs'
import { onTestFinished } from 'vitest'
import { chromium, type Page } from 'playwright-core'
import { CHROMIUM, browserArgs } from '@net-server/test-support'
import { serve, type Serving } from './cli.js'
import { fixture } from './fixture.js'

// The page's side, for the functions that run in the browser (the tests' types have no DOM).
interface PageRow { readonly className: string, readonly dataset: Record<string, string | undefined>, querySelector (selector: string): { readonly textContent: string | null } | null }
declare const document: { readonly body: { readonly dataset: Record<string, string | undefined> } }

/** A running `nsz serve --dashboard` and its URLs. */
export interface DashboardServer extends Serving {
  /** `http://127.0.0.1:<port>/`, from its `dashboard url=` line. */
  readonly url: string
  readonly pid: number
}

/** Starts `nsz serve --metrics-port 0 --dashboard ARGS` with the `cli-app.js` fixture and waits until its workers are ready. */
export async function serveDashboard (args: readonly string[], workers: number): Promise<DashboardServer> {
  const serving = await serve(['--metrics-port', '0', '--dashboard', '--log-level', '2', ...args, fixture('cli-app.js')])
  const [, url] = await serving.proc.line(/^dashboard url=(http:\/\/127\.0\.0\.1:\d+\/)$/)
  await serving.proc.line(new RegExp(`^ready workers=${workers}$`))
  return { ...serving, url: url!, pid: serving.proc.pid }
}

/** The pids of the live children of process `pid`, from `/proc`. */
export function childPids (pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
  return text === '' ? [] : text.split(/\s+/).map(Number).sort((a, b) => a - b)
}

/** Opens `url` in chromium; the browser is closed when the test ends. Resolves once the page has rendered a snapshot. */
export async function openDashboard (url: string): Promise<Page> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: browserArgs() })
  onTestFinished(async () => { await browser.close() })
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const errors: string[] = []
  page.on('pageerror', (err) => { errors.push(err.message) })
  // Console errors too: a file that did not load, a content security policy violation;
  // not the refusals of the actions that the tests ask for on purpose.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.location().url.includes('/api/actions/')) errors.push(`${message.text()} (${message.location().url})`)
  })
  onTestFinished(() => { if (errors.length > 0) throw new Error(`the page had errors: ${errors.join('; ')}`) })
  await page.goto(url)
  await rendered(page, 1)
  return page
}

/** Waits until the page has rendered `n` snapshots. */
export async function rendered (page: Page, n: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction((least) => Number(document.body.dataset.renders ?? 0) >= least, n, { timeout })
}

/** A row of the page's workers table. */
export interface ShownWorker {
  readonly pid: number
  readonly host: string
  readonly state: string
  readonly note: string
  readonly marked: string
}

/** The rows of the workers table, as shown now. */
export async function shownWorkers (page: Page): Promise<ShownWorker[]> {
  return await page.$$eval('#workers tbody tr', (rows) => rows.map((r) => {
    const tr = r as unknown as PageRow
    return { pid: Number(tr.dataset.pid), host: tr.dataset.host ?? '', state: tr.dataset.state ?? '', note: tr.querySelector('td.note')?.textContent ?? '', marked: tr.className }
  }))
}

/** The pids of the local workers the page shows as present (not gone), sorted. */
export async function shownLocalPids (page: Page): Promise<number[]> {
  return (await shownWorkers(page)).filter((w) => w.host === 'local' && w.state !== 'gone').map((w) => w.pid).sort((a, b) => a - b)
}

/** Waits until `check` of the page's state holds, naming `what` when it does not in time. */
export async function pageUntil (page: Page, check: () => Promise<boolean>, what: string, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for the page to show ${what}`)
    // The page renders a snapshot at most once a second: wait for the next one.
    const renders = Number(await page.evaluate(() => document.body.dataset.renders ?? 0))
    // No render by the deadline: the check above then says what the page did not show.
    await rendered(page, renders + 1, Math.max(1, deadline - Date.now())).catch(() => {})
  }
}
