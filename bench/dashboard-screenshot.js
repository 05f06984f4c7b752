#!/usr/bin/env node
/**
 * Takes the screenshot of the dashboard that docs/dashboard.md and the README show:
 * `node bench/dashboard-screenshot.js [out.png]` (or `pnpm screenshot:dashboard` from
 * the repository root, after `pnpm build`) starts `nsz serve --dashboard` on loopback
 * ports it picks, with a pool of two more workers (`nsz worker --connect`, admitted by
 * `--insecure-backend`, on loopback only) so that the page shows remote workers beside
 * local ones, puts it under a mixed load (jobs of a few ms, some failing with 500,
 * a few past --job-timeout for 504), kills one worker so that the page shows it gone
 * and its replacement, then opens the page in Debian's chromium (playwright-core, no
 * browser download; `CHROMIUM=/path` for another one) and writes the PNG, by default
 * to docs/dashboard.png. `LOAD_SECONDS` (default 40) sets how long the load runs first.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createInterface } from 'node:readline'
import { chromium } from 'playwright-core'
import { Client } from '@net-server/client'
import { app, nszPath, rootDir, serverMissing } from './lib/servers.js'

const out = resolve(process.argv[2] ?? join(rootDir, 'docs/dashboard.png'))
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium'
const loadSeconds = Number(process.env.LOAD_SECONDS ?? 40)
if (serverMissing() !== undefined) throw new Error(`${nszPath} is missing: run pnpm build first`)
if (!existsSync(executablePath)) throw new Error(`no browser at ${executablePath}: apt-get install chromium, or set CHROMIUM`)
if (!Number.isFinite(loadSeconds) || loadSeconds < 1) throw new RangeError(`LOAD_SECONDS must be a number >= 1, got ${process.env.LOAD_SECONDS}`)

const dir = mkdtempSync(join(tmpdir(), 'nsz-screenshot-'))
// The token goes in a conf file, as docs/dashboard.md advises, not on the command line.
const conf = join(dir, 'nsz.conf')
writeFileSync(conf, 'dashboard_token demo-token-0123456789\n', { mode: 0o600 })
const server = spawn(process.execPath, [nszPath, 'serve', '--port', '0,0', '--min-servers', '4', '--max-servers', '6', '--concurrency', '2',
  '--job-timeout', '1', '--metrics-port', '0', '--dashboard', '--dashboard-actions', '--conf-file', conf, '--insecure-backend', '--log-level', '0', app('dashboard-demo')],
{ cwd: rootDir, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
const started = [server]
const stopServer = () => {
  for (const proc of started) {
    try { process.kill(-proc.pid, 'SIGTERM') } catch { /* gone already */ }
  }
}
process.on('exit', stopServer)

/** The lines `nsz serve` prints at start, by key: `listening`, `dashboard`, `ready`. */
async function startLines (proc) {
  const lines = {}
  const timer = setTimeout(() => { throw new Error(`nsz serve did not start within 30 s: ${JSON.stringify(lines)}`) }, 30_000)
  for await (const line of createInterface({ input: proc.stdout })) {
    const [key, ...rest] = line.split(' ')
    lines[key] = rest.join(' ')
    if (key === 'ready') break
  }
  clearTimeout(timer)
  return lines
}

const lines = await startLines(server)
const frontend = /frontend=(\S+)/.exec(lines.listening)[1]
const backend = /backend=(\S+)/.exec(lines.listening)[1]
const pool = spawn(process.execPath, [nszPath, 'worker', '--connect', backend, '--min-servers', '2', '--max-servers', '2', '--concurrency', '2', '--log-level', '0', app('dashboard-demo')],
  { cwd: rootDir, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
started.push(pool)
await startLines(pool)
const url = /url=(\S+)/.exec(lines.dashboard)[1]
console.error(`dashboard at ${url}; load for ${loadSeconds} s`)

// Sixteen clients in a loop; each job is mostly a short one, now and then a failure,
// and about every 8 s one that hangs.
const load = { running: true }
let nextHang = Date.now() + 5000
const clients = Array.from({ length: 16 }, () => new Client({ endpoint: frontend, timeout: 5000, retries: 0 }))
const loops = clients.map(async (client, i) => {
  while (load.running) {
    const hang = Date.now() > nextHang
    if (hang) nextHang = Date.now() + 8000
    const body = hang ? 'hang' : Math.random() < 0.01 ? 'fail' : `work ${Math.round(2 + Math.random() * (i % 2 === 0 ? 8 : 40))}`
    await client.request('default', body).catch(() => {})
    // A slower pace every other 10 s, so that the charts have a shape.
    if (Math.floor(Date.now() / 10_000) % 2 === 0) await sleep(5)
  }
})

await sleep(loadSeconds * 1000 * 0.7)
const status = await (await fetch(new URL('api/status', url))).json()
const victim = status.status.children[0]?.pid
if (victim !== undefined) {
  console.error(`killing worker ${victim}`)
  process.kill(victim, 'SIGKILL')
}
await sleep(loadSeconds * 1000 * 0.3)

const browser = await chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] })
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 })
  await page.goto(url)
  await page.waitForFunction(() => Number(document.body.dataset.renders ?? 0) >= 2)
  await page.screenshot({ path: out, fullPage: true })
  console.error(`wrote ${out}`)
} finally {
  await browser.close()
  load.running = false
  await Promise.all(loops)
  for (const c of clients) c.close()
  stopServer()
  await Promise.all([once(server, 'exit'), once(pool, 'exit')])
  rmSync(dir, { recursive: true, force: true })
}
