import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { alive, eventually, gate, loggedBy, openFiles, tempDir } from '@net-server/test-support'
import { faultFile, startPool, type Pool } from '../support/pool.js'

/** Keeps sending requests one after another until stopped; collects the replies that are not pongs. */
function requestLoop (pool: Pool): { stop: () => Promise<{ served: number, failures: string[] }> } {
  const state = { running: true }
  const failures: string[] = []
  let served = 0
  const done = (async () => {
    while (state.running) {
      const reply = await pool.request('ping').catch((err: Error) => `error ${err.message}`)
      if (/^pong \d+$/.test(reply)) served++
      else failures.push(reply)
    }
  })()
  return {
    stop: async () => {
      state.running = false
      await done
      return { served, failures }
    }
  }
}

describe('signals', () => {
  it('TTIN adds a child and TTOU removes one, moving minServers and maxServers, never below 0', async () => {
    const pool = await startPool(['--min-servers', '2'])
    await pool.settled(2)
    pool.signal('SIGTTIN')
    await pool.settled(3)
    expect((await pool.status()).limits).toEqual({ minServers: 3, maxServers: 9 })

    pool.signal('SIGTTOU')
    await pool.settled(2)
    expect((await pool.status()).limits).toEqual({ minServers: 2, maxServers: 8 })

    // Signals of one kind sent together merge into one: send each after the last took effect.
    pool.signal('SIGTTOU')
    await pool.settled(1)
    pool.signal('SIGTTOU')
    await pool.until(() => pool.live.size === 0, 'no children')
    expect((await pool.status()).limits).toEqual({ minServers: 0, maxServers: 6 })
    pool.signal('SIGTTOU')
    const status = await pool.statusUntil((s) => s.limits!.maxServers === 5, 'maxServers 5')
    expect(status.limits).toEqual({ minServers: 0, maxServers: 5 })
    expect(status.children).toEqual([])
  })

  it('TTOU retires a busy child only after its current request', async () => {
    const pool = await startPool(['--min-servers', '1'])
    const [pid] = await pool.settled(1)
    const held = gate()
    const from = pool.events.length
    const slow = pool.request(`hold ${held.path}`)
    await pool.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy child', from)
    pool.signal('SIGTTOU')
    await pool.event((e) => e.event === 'childState' && e.pid === pid && e.state === 'exiting', 'the child told to stop', from)
    expect(pool.live.get(pid!)).toBe('exiting')
    held.open()
    expect(await slow).toBe(`released ${pid}`)
    await pool.event((e) => e.event === 'childExit' && e.pid === pid, 'the child to exit', from)
    expect((await pool.status()).limits).toEqual({ minServers: 0, maxServers: 7 })
  })

  it('HUP replaces every child, each new one ready before an old one leaves, while requests keep succeeding; the TTIN count survives', async () => {
    const pool = await startPool(['--min-servers', '2'])
    await pool.settled(2)
    pool.signal('SIGTTIN')
    const old = await pool.settled(3)
    const load = requestLoop(pool)
    const from = pool.events.length
    pool.signal('SIGHUP')
    await pool.until(() => old.every((pid) => !pool.live.has(pid)) && pool.ready().length === 3 && pool.live.size === 3, 'every child replaced')
    const { served, failures } = await load.stop()
    expect(failures).toEqual([])
    expect(served).toBeGreaterThan(0)
    expect(pool.ready().filter((pid) => old.includes(pid))).toEqual([])

    // Replay the events: an old child is told to stop only after as many new ones are ready.
    let newReady = 0
    const readyAtEachStop: number[] = []
    for (const e of pool.events.slice(from)) {
      if (e.event === 'childReady' && !old.includes(e.pid!)) newReady++
      if (e.event === 'childState' && e.state === 'exiting' && old.includes(e.pid!)) readyAtEachStop.push(newReady)
    }
    expect(readyAtEachStop).toHaveLength(3)
    expect(readyAtEachStop.map((ready, i) => ready > i)).toEqual([true, true, true])
    expect((await pool.status()).limits).toEqual({ minServers: 3, maxServers: 9 })
  })

  it('HUP keeps the old children when new ones fail to boot, and works again once they boot', async () => {
    const fault = faultFile()
    const pool = await startPool(['--min-servers', '2', '--boot-fault', fault, '--boot-failure-limit', '3'])
    const old = await pool.settled(2)
    writeFileSync(fault, 'throw')
    let from = pool.events.length
    pool.signal('SIGHUP')
    const error = await pool.event((e) => e.event === 'error', 'the crash-loop error', from)
    expect(error.code).toBe('NSZ_ERR_CRASH_LOOP')
    // Each new child ended by itself, with its boot error's exit code.
    const failed = pool.events.slice(from).filter((e) => e.event === 'childExit').map((e) => ({ code: e.code, signal: e.signal }))
    expect(failed).toEqual([1, 2, 3].map(() => ({ code: 1, signal: null })))

    expect(pool.ready().sort((a, b) => a - b)).toEqual(old)
    const replies = await Promise.all([1, 2, 3, 4].map(async () => await pool.request('ping')))
    for (const reply of replies) expect(old).toContain(Number(reply.split(' ')[1]))
    expect((await pool.status()).children!.every((c) => !c.retiring)).toBe(true)

    rmSync(fault)
    from = pool.events.length
    pool.signal('SIGHUP')
    await pool.until(() => old.every((pid) => !pool.live.has(pid)) && pool.ready().length === 2, 'a successful restart')
  })

  it('USR1 makes the parent and every child reopen the log file moved away, a child still booting too', async () => {
    const logFile = join(tempDir(), 'pool.log')
    const rotated = `${logFile}.1`
    const fault = faultFile()
    const pool = await startPool(['--min-servers', '2', '--log-level', '2', '--log-file', logFile, '--boot-fault', fault])
    const ready = await pool.settled(2)
    // A third child that has opened the log and is held in its boot.
    const held = gate()
    writeFileSync(fault, `hold ${held.path}`)
    const from = pool.events.length
    pool.signal('SIGTTIN')
    const booting = (await pool.event((e) => e.event === 'childSpawn', 'a third child', from)).pid!
    await eventually(() => alive(booting) && openFiles(booting).includes(logFile), `child ${booting} to open the log file`, 10_000)

    renameSync(logFile, rotated)
    pool.signal('SIGUSR1')
    // Each writes its next line to the new file, and lets go of the moved one (pino
    // closes it just after).
    const stale = (pids: readonly number[]): number[] => pids.filter((pid) => !loggedBy(logFile, 'log reopened').includes(pid) || openFiles(pid).includes(rotated))
    const running = [pool.pid, ...ready]
    await eventually(() => stale(running).length === 0,
      () => `the parent and the ready children (${running.join(', ')}) to log 'log reopened' in the new file and close the moved one; not done: ${stale(running).join(', ')}`, 5000)
    held.open()
    await pool.event((e) => e.event === 'childReady' && e.pid === booting, `child ${booting} ready`, from)
    await eventually(() => stale([booting]).length === 0,
      `the child that was booting (${booting}) to log 'log reopened' in the new file and close the moved one`, 5000)
    for (const pid of [...running, booting]) expect(openFiles(pid), `files of ${pid}`).toContain(logFile)
    expect(loggedBy(rotated, 'log reopened')).toEqual([])
  })
})
