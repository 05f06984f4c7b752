/**
 * `nsz serve` under abuse from its clients, as real processes: one client floods
 * beside polite ones; a client never reads its replies (what is dropped, counted and
 * logged, and what the broker's memory does meanwhile).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Dealer } from 'zeromq'
import { Status, decodeNszReply, encodeNszRequest, isDecodeError } from '@net-server/client'
import { b, tempDir, track, within, type TestProcess } from '@net-server/test-support'
import { FRONTEND_SEND_HWM } from '../../src/client-outbox.js'
import { politeClients, reqCall, reqClient } from '../support/broker.js'
import { logged, serve, statusJson, statusUntil } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

const MiB = 1024 * 1024

/** `VmRSS` or `VmHWM` (the peak RSS) of process `pid`, in bytes, from `/proc/<pid>/status`. */
function memory (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(kb) * 1024
}

/** A DEALER that sends `requests` requests and never reads: libzmq takes in a few replies for it, the rest wait in the broker. */
async function neverReading (frontend: string, requests: number, body: string): Promise<Dealer> {
  const socket = track(new Dealer({ linger: 0, receiveHighWaterMark: 4 }))
  socket.connect(frontend)
  for (let i = 0; i < requests; i++) await socket.send(encodeNszRequest('default', b(String(i)), body))
  return socket
}

/** Two workers of `cli-app.js`, a pid file, and `args`; once both workers are ready. */
async function server (args: readonly string[]): Promise<{ pidFile: string, frontend: string, proc: TestProcess }> {
  const pidFile = join(tempDir(), 'nsz.pid')
  const { proc, frontend } = await serve(['--min-servers', '2', '--max-servers', '2', '--min-spare-servers', '0', '--pid-file', pidFile, ...args, fixture('cli-app.js')])
  await proc.line(/^ready workers=2$/)
  return { pidFile, frontend, proc }
}

describe('nsz serve beside a flood', () => {
  it('keeps serving 8 polite REQ clients within a bound while one DEALER floods with 20 000 requests', async () => {
    const { pidFile, frontend } = await server(['--log-level', '1'])
    // Each job takes 5 ms: served first come first served, a polite request would wait
    // behind the flood's 1000 queued ones (maxQueuePerClient) for 2.5 s.
    const JOB = 'sleep 5'
    const BURST = 15_000
    const FLOOD = 20_000
    const flood = track(new Dealer({ linger: 0 }))
    flood.connect(frontend)
    const statuses: Record<number, number> = {}
    let sent = 0
    let answered = 0
    let polite = false
    // One send at a time on the socket, in order.
    let sending = Promise.resolve()
    const send = (n: number): void => {
      sending = sending.then(async () => {
        for (let i = 0; i < n; i++) {
          if (sent === FLOOD || polite) return
          await flood.send(encodeNszRequest('default', b(String(sent++)), JOB))
        }
      })
    }
    let allAnswered!: () => void
    const answeredAll = new Promise<void>((resolve) => { allAnswered = resolve })
    const reading = (async () => {
      for await (const msg of flood) {
        const reply = decodeNszReply(msg)
        if (isDecodeError(reply)) throw new Error(reply.error)
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1
        answered++
        // Sustained: one more request for each one served, until the polite clients are done.
        if (reply.status === Status.OK) send(1)
        if (polite && answered === sent) allAnswered()
      }
    })()
    // A burst far past the flood's queue limit, then one more request for each one served.
    send(BURST)
    await statusUntil(pidFile, (s) => s.queued >= 500, 'the flood\'s queue')

    const latencies = await politeClients(frontend, 8, 10, (body) => [body.toUpperCase()])
    // The flood still had requests waiting when the last polite reply came.
    expect(answered).toBeLessThan(sent)
    polite = true
    await sending
    if (answered === sent) allAnswered()
    expect(latencies).toHaveLength(80)
    // In turn, each polite request waits for about one flood job per worker.
    expect(Math.max(...latencies)).toBeLessThan(1000)

    await within(Promise.race([answeredAll, reading]), 30_000, 'every flood request answered')
    expect(sent).toBeGreaterThanOrEqual(BURST)
    expect(sent).toBeLessThanOrEqual(FLOOD)
    // Past its queue limit the flood got 503 at once; what it queued was served.
    expect(statuses[Status.UNAVAILABLE]).toBeGreaterThan(BURST / 2)
    expect((statuses[Status.OK] ?? 0) + statuses[Status.UNAVAILABLE]!).toBe(sent)
    const status = await statusJson(pidFile)
    expect(status.losses.refused.clientLimit).toBe(statuses[Status.UNAVAILABLE])
    expect(status.served).toBe(statuses[Status.OK]! + 80)
  })
})

describe('nsz serve under a client that never reads', () => {
  it('drops the replies past its budget, counts them in nsz status --json and logs it, while others are served', async () => {
    const BUDGET = MiB
    const { pidFile, frontend, proc } = await server(['--log-level', '2', '--max-client-buffer', String(BUDGET)])
    const SIZE = 64 * 1024
    const REQUESTS = 600
    await neverReading(frontend, REQUESTS, `big ${SIZE}`)
    const status = await statusUntil(pidFile, (s) => s.served === REQUESTS, 'every request answered by a worker')
    expect(status.losses.undelivered.overBudget).toBeGreaterThan(0)
    expect(status.heldBytes).toBeGreaterThan(0)
    expect(status.heldBytes).toBeLessThanOrEqual(BUDGET)
    // Others are served meanwhile.
    expect((await reqCall(reqClient(frontend), `big ${SIZE}`))[0]).toHaveLength(SIZE)
    await proc.until(() => logged(proc, /^undelivered:overBudget: /).length > 0, 'the dropped replies in the log')
    expect(logged(proc, /undelivered:overBudget/)).toHaveLength(1)
  })

  it('keeps the broker\'s RSS within its byte budget and a margin, and holds nothing once the client goes', async () => {
    const BUDGET = MiB
    const { pidFile, frontend, proc } = await server(['--log-level', '1', '--max-client-buffer', String(BUDGET), '--max-queue-per-client', '10000'])
    const SIZE = 64 * 1024
    expect((await reqCall(reqClient(frontend), `big ${SIZE}`))[0]).toHaveLength(SIZE)
    const before = memory(proc.pid, 'VmRSS')
    const REQUESTS = 6000
    // What the broker may hold for the client: its budget and libzmq's pipe (a send
    // high-water mark of messages); the margin covers what the GC has yet to free of
    // the replies it read from the workers and dropped.
    const bound = BUDGET + FRONTEND_SEND_HWM * SIZE + 96 * MiB
    // Holding every reply would take several times that.
    expect(REQUESTS * SIZE).toBeGreaterThan(3 * bound)
    const socket = await neverReading(frontend, REQUESTS, `big ${SIZE}`)
    const status = await statusUntil(pidFile, (s) => s.served === REQUESTS + 1, 'every request answered by a worker')
    expect(status.losses.undelivered.overBudget).toBeGreaterThan(REQUESTS / 2)
    const peak = memory(proc.pid, 'VmHWM')
    expect(peak - before, `peak RSS ${peak / MiB} MiB, ${before / MiB} MiB before`).toBeLessThan(bound)

    socket.close()
    const after = await statusUntil(pidFile, (s) => s.heldBytes === 0, 'what was held for the client dropped')
    expect(after.losses.undelivered.unreachable).toBeGreaterThan(0)
  })
})
