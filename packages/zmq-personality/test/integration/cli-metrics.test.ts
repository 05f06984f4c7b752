/**
 * `nsz serve --metrics-port`: Prometheus text at `/metrics`, scraped over HTTP on
 * 127.0.0.1, whose figures match `nsz status --json` after jobs of every outcome.
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Command, Status } from '@net-server/client'
import { groupGone, tempDir, text } from '@net-server/test-support'
import { NszClient, RawWorker } from '../support/broker.js'
import { runNsz, serve, statusUntil } from '../support/cli.js'
import { fixture } from '../support/fixture.js'
import { sample, scrape } from '../support/metrics.js'

describe('nsz serve --metrics-port', () => {
  it('serves Prometheus metrics that count jobs by service and status, timings, workers, slots, restarts and refusals', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend } = await serve(['--min-servers', '2', '--max-servers', '2', '--min-spare-servers', '0', '--concurrency', '2', '--job-timeout', '0.3',
      '--service-grace', '0', '--log-level', '0', '--pid-file', pidFile, '--metrics-port', '0', fixture('cli-app.js')])
    const [, url] = await proc.line(/^metrics url=(http:\/\/127\.0\.0\.1:\d+\/metrics)$/)
    await proc.line(/^ready workers=2$/)

    const client = new NszClient(frontend)
    const replies = await Promise.all([...Array.from({ length: 6 }, (_, i) => client.call('default', `job ${i}`)), client.call('default', 'sleep 50')])
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200])
    expect((await client.call('nothing', 'x')).status).toBe(404)
    // A job past --job-timeout: 504, and its worker is killed and replaced.
    expect((await client.call('default', 'hang')).status).toBe(504)
    const status = await statusUntil(pidFile, (s) => s.childExits === 1 && s.children.length === 2 && s.children.every((c) => c.state === 'waiting') && s.workersByHost.local.idle === 2,
      'the timed-out worker replaced')

    const { status: code, type, samples } = await scrape(url!)
    expect(code).toBe(200)
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/)
    const expected: Record<string, number> = {
      'nsz_jobs_total{service="default",status="200"}': 7,
      'nsz_jobs_total{service="default",status="504"}': 1,
      'nsz_requests_refused_total{reason="noService"}': 1,
      'nsz_requests_refused_total{reason="queueFull"}': 0,
      nsz_job_timeouts_total: 1,
      nsz_declines_total: 0,
      'nsz_workers_dropped_total{reason="timeout"}': 1,
      nsz_heartbeat_losses_total: 0,
      nsz_protocol_errors_total: 0,
      'nsz_zap_refusals_total{reason="workerKey"}': 0,
      nsz_child_spawns_total: 3,
      nsz_child_exits_total: 1,
      'nsz_workers{state="idle",host="local"}': 2,
      'nsz_workers{state="busy",host="local"}': 0,
      'nsz_workers{state="idle",host="remote"}': 0,
      'nsz_children{state="waiting"}': 2,
      nsz_slots: 4,
      nsz_slots_in_use: 0,
      nsz_jobs_in_flight: 0,
      // Every accepted job waited (7 + the 504); those that reached a worker ran.
      'nsz_queue_wait_seconds_count{service="default"}': 8,
      'nsz_job_duration_seconds_count{service="default"}': 8
    }
    for (const [series, value] of Object.entries(expected)) expect([series, sample(samples, series)]).toEqual([series, value])
    // The 50 ms job and the 300 ms timeout ran past 25 ms; the others did not come close to 10 s.
    expect(sample(samples, 'nsz_job_duration_seconds_bucket{le="10",service="default"}')).toBe(8)
    expect(sample(samples, 'nsz_job_duration_seconds_bucket{le="0.025",service="default"}')).toBeLessThanOrEqual(6)
    expect(sample(samples, 'nsz_job_duration_seconds_sum{service="default"}')).toBeGreaterThanOrEqual(0.35)
    // Nothing waits: no queue-depth series at all.
    expect([...samples.keys()].filter((k) => k.startsWith('nsz_queue_depth{'))).toEqual([])

    // nsz status --json reports the same figures.
    expect(status).toMatchObject({ jobs: { default: { 200: 7, 504: 1 } }, jobTimeouts: 1, declines: 0, protocolErrors: 0, childSpawns: 3, childExits: 1, queuedByService: {} })
    expect(status.losses.refused.noService).toBe(1)

    const other = await scrape(url!.replace(/\/metrics$/, '/'))
    expect(other.status).toBe(404)

    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
  })

  it('counts a job that a remote worker declined and the broker gave to another: nsz_declines_total and declines', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend, backend } = await serve(['--min-servers', '0', '--max-servers', '0', '--insecure-backend', '--service-grace', '0', '--log-level', '1',
      '--pid-file', pidFile, '--metrics-port', '0'])
    const [, url] = await proc.line(/^metrics url=(http:\/\/127\.0\.0\.1:\d+\/metrics)$/)
    await proc.line(/^ready workers=0$/)
    // A worker of ours (it announces the extension) declines the job it gets: 503.
    const decliner = new RawWorker(backend)
    await decliner.ready('default', { pid: 999_101, services: [] })
    await decliner.expect(Command.ACK)
    const client = new NszClient(frontend)
    const reply = client.call('default', 'job')
    const request = await decliner.expect(Command.REQUEST)
    await decliner.reply(request[3]!, [], Status.UNAVAILABLE)
    // The job waits for the next worker, which serves it.
    await statusUntil(pidFile, (s) => s.queued === 1, 'the declined job back in the queue')
    const taker = new RawWorker(backend)
    await taker.ready('default')
    const again = await taker.expect(Command.REQUEST)
    await taker.reply(again[3]!, 'taken')
    expect(text((await reply).body)).toEqual(['taken'])
    const status = await statusUntil(pidFile, (s) => s.served === 1, 'the job served')
    expect(status).toMatchObject({ declines: 1, jobs: { default: { 200: 1 } } })
    const { samples } = await scrape(url!)
    expect(sample(samples, 'nsz_declines_total')).toBe(1)
    expect(sample(samples, 'nsz_jobs_total{service="default",status="200"}')).toBe(1)
    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
  })

  it('exits 1 naming the options when the metrics port is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const { code, stdout, stderr } = await runNsz(['serve', '--port', '0,0', '--min-servers', '0', '--max-servers', '0', '--log-level', '0', '--metrics-port', String(port)])
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe(`nsz: cannot serve metrics on 127.0.0.1:${port} (--metrics-host, --metrics-port): listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`)
    } finally {
      taken.close()
    }
  })
})
