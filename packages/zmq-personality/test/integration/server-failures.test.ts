import { existsSync, watch } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Status } from '@net-server/client'
import { statusOf, tempDir, text, within } from '@net-server/test-support'
import { client, startServer } from '../support/server.js'

const APP = { kind: 'upper' }

function tempFile (name: string): string {
  return join(tempDir('nsz-server-'), name)
}

/** Resolves once `file` exists (watching its directory), within `ms`. */
async function created (file: string, ms: number): Promise<void> {
  const watcher = watch(dirname(file))
  try {
    const seen = new Promise<void>((resolve) => {
      watcher.on('change', (_type, name) => { if (name === basename(file)) resolve() })
      if (existsSync(file)) resolve()
    })
    await within(seen, ms, `${file} to be created`)
  } finally {
    watcher.close()
  }
}

describe('a worker lost or stuck', () => {
  it('answers 502 when a busy worker is killed, and a replacement becomes ready', async () => {
    const server = await startServer(['--min-servers', '2'], APP)
    const pids = await server.serving(2)
    const marker = tempFile('hang-first')
    const c = client(server.frontend)
    const from = server.events.length
    const reply = statusOf(c.request('', ['hang-first', marker]))
    const busy = await server.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy worker', from)
    await created(marker, 10_000)
    process.kill(busy.pid!, 'SIGKILL')
    expect(await reply).toBe(Status.WORKER_LOST)
    await server.event((e) => e.event === 'childExit' && e.pid === busy.pid, 'the killed worker to exit', from)
    const now = await server.serving(2)
    expect(now).not.toContain(busy.pid)
    expect(now).toContain(pids.find((p) => p !== busy.pid))
    expect(text(await c.request('', 'again'))).toEqual(['AGAIN'])
  })

  it('with --requeue, gives the job of a killed worker to another one', async () => {
    const server = await startServer(['--min-servers', '2', '--requeue'], APP)
    const pids = await server.serving(2)
    const marker = tempFile('hang-first')
    const c = client(server.frontend)
    const from = server.events.length
    const reply = c.request('', ['hang-first', marker])
    const busy = await server.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy worker', from)
    // The job has reached the worker's app once the marker exists.
    await created(marker, 10_000)
    process.kill(busy.pid!, 'SIGKILL')
    const other = pids.find((p) => p !== busy.pid)!
    expect(text(await reply)).toEqual([`done ${other}`])
    await server.event((e) => e.event === 'childExit' && e.pid === busy.pid, 'the killed worker to exit', from)
    expect(await server.serving(2)).not.toContain(busy.pid)
  })

  it('answers 504 to a job past --job-timeout, kills its worker and replaces it', async () => {
    const server = await startServer(['--min-servers', '2', '--job-timeout', '0.5'], APP)
    await server.serving(2)
    const c = client(server.frontend)
    const from = server.events.length
    const started = Date.now()
    expect(await statusOf(c.request('', 'hang'))).toBe(Status.TIMEOUT)
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    const busy = server.events.slice(from).find((e) => e.event === 'childState' && e.state === 'processing')!
    const exit = await server.event((e) => e.event === 'childExit' && e.pid === busy.pid, 'the stuck worker to be killed', from)
    expect(exit.signal).toBe('SIGKILL')
    expect(await server.serving(2)).not.toContain(busy.pid)
    // A job shorter than the timeout is unaffected.
    expect(text(await c.request('', ['sleep', '100']))[0]).toMatch(/^slept \d+$/)
  })
})
