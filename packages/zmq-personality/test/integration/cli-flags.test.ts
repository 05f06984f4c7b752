import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Status, type NszReply } from '@net-server/client'
import { eventually, freePorts, groupGone, tempDir, text } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { runNsz, serve, statusJson, statusUntil, zmqClient } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

/** Flags of a small pool, each test adds its own. */
const SMALL = ['--min-servers', '1', '--max-servers', '1', '--min-spare-servers', '0', '--log-level', '1']

/** Each flag reaches its option: the effect is observed on the running server. */
describe('nsz serve flags', () => {
  it('--port binds the frontend and the backend to the ports given', async () => {
    const [front, back] = await freePorts()
    const { frontend, backend } = await serve([...SMALL, '--port', `${front},${back}`, fixture('cli-app.js')])
    expect([frontend, backend]).toEqual([`tcp://127.0.0.1:${front}`, `tcp://127.0.0.1:${back}`])
    expect((await zmqClient(frontend, 'port')).stdout).toBe('PORT\n')
  })

  it('--host binds both sockets to that address', async () => {
    const { frontend, backend, proc } = await serve([...SMALL, '--host', '127.0.0.2', fixture('cli-app.js')])
    expect(frontend).toMatch(/^tcp:\/\/127\.0\.0\.2:\d+$/)
    expect(backend).toMatch(/^tcp:\/\/127\.0\.0\.2:\d+$/)
    await proc.line(/^ready workers=1$/)
    expect((await zmqClient(frontend, 'host')).stdout).toBe('HOST\n')
  })

  it('--min-servers and --max-servers size the pool', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc } = await serve(['--min-servers', '3', '--max-servers', '4', '--min-spare-servers', '0', '--log-level', '1', '--pid-file', pidFile])
    await proc.line(/^ready workers=3$/)
    const status = await statusJson(pidFile)
    expect(status.limits).toEqual({ minServers: 3, maxServers: 4 })
    expect(status.children).toHaveLength(3)
  })

  it('--max-requests replaces a worker after that many jobs', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { frontend, proc } = await serve([...SMALL, '--max-requests', '2', '--pid-file', pidFile, fixture('cli-app.js')])
    await proc.line(/^ready workers=1$/)
    const client = new NszClient(frontend)
    const pid = async (): Promise<number> => Number(text((await client.call('default', 'pid')).body)[0])
    const first = await pid()
    expect(await pid()).toBe(first)
    // it serves on until its replacement is ready, then leaves
    const status = await statusUntil(pidFile, (s) => s.children.length === 1 && s.children[0]!.pid !== first, 'the replacement of the worker')
    expect(await pid()).toBe(status.children[0]!.pid)
  })

  it('--job-timeout (seconds, fractions allowed) answers 504 and replaces the worker', async () => {
    const { frontend, proc } = await serve([...SMALL, '--log-level', '2', '--job-timeout', '0.3', fixture('cli-app.js')])
    await proc.line(/^ready workers=1$/)
    const client = new NszClient(frontend)
    const first = text((await client.call('default', 'pid')).body)[0]
    const started = Date.now()
    expect((await client.call('default', 'hang')).status).toBe(Status.TIMEOUT)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    const next = await client.call('default', 'pid')
    expect(next.status).toBe(200)
    expect(text(next.body)[0]).not.toBe(first)
    // The log names the dropped worker by its child's pid: never by the routing-id tag
    // that the child alone was given.
    const dropped = (): string | undefined => proc.stderr.split('\n').find((l) => l.includes('workerDropped:timeout'))
    await eventually(() => dropped() !== undefined, 'the worker-dropped log line', 10_000)
    expect(dropped()).toMatch(new RegExp(`\\(peer child ${first} [0-9a-f]+\\)`))
    expect(dropped()).not.toMatch(/peer [0-9a-f]{30,}/)
  })

  it('--max-queue bounds the requests waiting for a worker: past it, 503 at once', async () => {
    const { frontend, proc } = await serve([...SMALL, '--max-queue', '1', fixture('cli-app.js')])
    await proc.line(/^ready workers=1$/)
    const client = new NszClient(frontend)
    // the worker hangs on the first, the second waits: neither is ever answered, and
    // their deadline, after the test, is no failure
    client.call('default', 'hang').catch(() => {})
    client.call('default', 'hang').catch(() => {})
    expect((await client.call('default', 'third')).status).toBe(Status.UNAVAILABLE)
  })

  it('--log-file and --log-level choose where logs go and how much', async () => {
    const dir = tempDir()
    const run = async (level: string): Promise<Array<{ level: string, msg: string }>> => {
      const file = join(dir, `level-${level}.log`)
      const { proc } = await serve(['--min-servers', '1', '--min-spare-servers', '0', '--log-level', level, '--log-file', file])
      await proc.line(/^ready workers=1$/)
      proc.proc.kill('SIGTERM')
      expect(await proc.exited()).toBe(0)
      await groupGone(proc.pid)
      expect(proc.stderr).toBe('')
      return readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { level: string, msg: string })
    }
    const info = await run('3')
    expect(info.map((r) => r.msg)).toEqual(expect.arrayContaining(['ZmqServer started', 'ZmqServer stopped']))
    expect(info.some((r) => r.level === 'info')).toBe(true)
    const quiet = await run('0')
    expect(quiet).toEqual([])
  })

  it('--pid-file holds the broker pid while it runs, and goes with it', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc } = await serve([...SMALL, '--pid-file', pidFile])
    await proc.line(/^ready workers=1$/)
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(proc.pid))
    expect(existsSync(`${pidFile}.sock`)).toBe(true)
    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    expect(existsSync(pidFile)).toBe(false)
    expect(existsSync(`${pidFile}.sock`)).toBe(false)
  })

  it('--conf-file fills in options, and flags win over it', async () => {
    const dir = tempDir()
    const pidFile = join(dir, 'nsz.pid')
    const conf = join(dir, 'nsz.conf')
    writeFileSync(conf, ['# the pool', 'min_servers 3', 'max_servers 4', 'min_spare_servers 0', 'concurrency 6', 'log_level 1', `pid_file ${pidFile}`, ''].join('\n'))
    const { proc } = await serve(['--conf-file', conf, '--min-servers', '2'])
    await proc.line(/^ready workers=2$/)
    // Each worker's CREDIT reaches the broker a moment after its READY.
    const status = await statusUntil(pidFile, (s) => s.slots.total === 12, 'both workers\' 6 slots')
    expect(status.limits).toEqual({ minServers: 2, maxServers: 4 })
    expect(status.children.map((c) => c.slots)).toEqual([6, 6])
  })

  it('--control-endpoint is where nsz status --control asks', async () => {
    const control = `ipc://${join(tempDir(), 'control.sock')}`
    const { proc } = await serve([...SMALL, '--control-endpoint', control])
    await proc.line(/^ready workers=1$/)
    const { code, stdout } = await runNsz(['status', '--control', control, '--json'])
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ pid: proc.pid, limits: { minServers: 1, maxServers: 1 } })
  })

  /** A server of two workers, one of them SIGKILLed while it holds a job that hangs: its pid file, the job's reply and the dead worker. */
  async function killBusyWorker (flag: string): Promise<{ pidFile: string, reply: Promise<NszReply>, busy: number }> {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend } = await serve(['--min-servers', '2', '--max-servers', '2', '--min-spare-servers', '0', '--log-level', '0', '--pid-file', pidFile, flag, fixture('cli-app.js')])
    await proc.line(/^ready workers=2$/)
    const reply = new NszClient(frontend).call('default', 'hang')
    const busy = (await statusUntil(pidFile, (s) => s.children.some((c) => c.state === 'processing'), 'a busy worker'))
      .children.find((c) => c.state === 'processing')!.pid
    process.kill(busy, 'SIGKILL')
    return { pidFile, reply, busy }
  }

  it('--requeue sends the job of a dead worker to another one', async () => {
    const { pidFile, reply, busy } = await killBusyWorker('--requeue')
    // the job now hangs on the other worker, and is never answered: its deadline, after the test, is no failure
    reply.catch(() => {})
    const status = await statusUntil(pidFile, (s) => s.children.some((c) => c.pid !== busy && c.state === 'processing'), 'the job on the other worker')
    expect(status.inFlight).toBe(1)
  })

  it('--no-requeue answers the job of a dead worker 502', async () => {
    const { reply } = await killBusyWorker('--no-requeue')
    expect((await reply).status).toBe(Status.WORKER_LOST)
  })
})
