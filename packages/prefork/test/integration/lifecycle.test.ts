import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { allGone, alive, gate } from '@net-server/test-support'
import { fixture, startPool } from '../support/pool.js'

describe('pool lifecycle', () => {
  it('starts minServers children that serve requests, and stops them all on TERM', async () => {
    const pool = await startPool(['--min-servers', '3'])
    const pids = await pool.settled(3)
    const replies = await Promise.all(Array.from({ length: 6 }, async () => await pool.request('ping')))
    for (const reply of replies) {
      expect(reply).toMatch(/^pong \d+$/)
      expect(pids).toContain(Number(reply.split(' ')[1]))
    }
    pool.signal('SIGUSR1') // reopen the logs: nobody stops
    const status = await pool.status()
    expect(status.children!.map((c) => c.pid).sort((a, b) => a - b)).toEqual(pids)
    expect(status.limits).toEqual({ minServers: 3, maxServers: 8 })
    expect(status.children!.reduce((n, c) => n + c.jobs, 0)).toBe(6)

    const beforeTerm = pool.events.length
    pool.signal('SIGTERM')
    expect(await pool.exit).toEqual({ code: 0, signal: null })
    expect(pool.events.slice(0, beforeTerm).filter((e) => e.event === 'childExit')).toEqual([])
    for (const pid of pids) {
      expect(pool.events.find((e) => e.event === 'childExit' && e.pid === pid)).toMatchObject({ code: 0, signal: null })
    }
    expect(pool.events.at(-1)!.event).toBe('closed')
    expect(pool.live.size).toBe(0)
    expect(pids.filter(alive)).toEqual([])
  })

  it('hands each child its own bootstrap data over IPC, not through its environment', async () => {
    const pool = await startPool(['--min-servers', '2'])
    const pids = await pool.settled(2)
    // Two requests at once: the parent gives each to a different idle child.
    const replies = await Promise.all([pool.request('bootstrap'), pool.request('bootstrap')])
    const seen = new Map<number, string>()
    for (const reply of replies) {
      const data = JSON.parse(reply) as { pid: number, token: string }
      expect(pids).toContain(data.pid)
      seen.set(data.pid, data.token)
      expect(readFileSync(`/proc/${data.pid}/environ`, 'utf8')).not.toContain(data.token)
    }
    expect(seen.size).toBe(2)
    expect(new Set(seen.values()).size).toBe(2)
    pool.signal('SIGTERM')
    expect(await pool.exit).toEqual({ code: 0, signal: null })
  })

  it('QUIT lets a busy child finish its request before the pool exits', async () => {
    const pool = await startPool(['--min-servers', '2'])
    await pool.settled(2)
    const held = gate()
    const from = pool.events.length
    const slow = pool.request(`hold ${held.path}`)
    const busy = (await pool.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy child', from)).pid!

    pool.signal('SIGQUIT')
    await pool.event((e) => e.event === 'childExit' && e.pid !== busy, 'the idle child to leave', from)
    expect(pool.live.get(busy)).toBe('exiting')
    held.open()
    expect(await slow).toBe(`released ${busy}`)
    expect(await pool.exit).toEqual({ code: 0, signal: null })
    expect(pool.events.find((e) => e.event === 'childExit' && e.pid === busy)).toMatchObject({ code: 0, signal: null })
  })

  it('INT stops fast: work in flight is abandoned', async () => {
    const pool = await startPool(['--min-servers', '1'])
    await pool.settled(1)
    const from = pool.events.length
    const slow = pool.request(`hold ${gate().path}`)
    const busy = (await pool.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy child', from)).pid!
    pool.signal('SIGINT')
    expect(await slow).toBe(`aborted ${busy}`)
    expect(await pool.exit).toEqual({ code: 0, signal: null })
  })

  it('a Ctrl-C to the process group does not kill the children: the parent stops them', async () => {
    const pool = await startPool(['--min-servers', '2'], { detached: true })
    const pids = await pool.settled(2)
    process.kill(-pool.proc.pid!, 'SIGINT')
    expect(await pool.exit).toEqual({ code: 0, signal: null })
    for (const pid of pids) {
      expect(pool.events.find((e) => e.event === 'childExit' && e.pid === pid)).toMatchObject({ code: 0, signal: null })
    }
  })

  it('children leave by themselves when the parent is SIGKILLed, busy ones too', async () => {
    const pool = await startPool(['--min-servers', '2'])
    const pids = await pool.settled(2)
    const from = pool.events.length
    const slow = pool.request(`hold ${gate().path}`).catch((err: Error) => `connection lost: ${err.message}`)
    await pool.event((e) => e.event === 'childState' && e.state === 'processing', 'a busy child', from)
    pool.signal('SIGKILL')
    await pool.exit
    await allGone(pids, 5000)
    expect(await slow).toMatch(/^aborted \d+$/)
  })

  it('children run options.workerModule when it is set', async () => {
    const pool = await startPool(['--min-servers', '1', '--worker-module', fixture('line-worker.ts')])
    await pool.settled(1)
    expect(await pool.request('module')).toBe('line-worker.ts')
  })
})
