import { writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { allGone } from '@net-server/test-support'
import { faultFile, startPool } from '../support/pool.js'

describe('recovery', () => {
  it('replaces a child that is SIGKILLed', async () => {
    const pool = await startPool(['--min-servers', '2'])
    const [victim, other] = await pool.settled(2)
    const from = pool.events.length
    process.kill(victim!, 'SIGKILL')
    expect(await pool.event((e) => e.event === 'childExit' && e.pid === victim, 'the exit', from)).toMatchObject({ code: null, signal: 'SIGKILL' })
    const now = await pool.settled(2)
    expect(now).toContain(other)
    expect(now).not.toContain(victim)
  })

  it('lets a child that closed its channel exit by itself, however slowly, before killing it', async () => {
    const fault = faultFile('slow-exit')
    // A dead check every 0.1 s: the channel is closed for 2 s before the exit, twice the
    // second the child gives itself, as a loaded machine may make it.
    writeFileSync(fault, 'slow-exit 2000')
    const pool = await startPool(['--min-servers', '1', '--boot-fault', fault, '--boot-failure-limit', '10'])
    const exit = await pool.event((e) => e.event === 'childExit', 'the first child to end', 0, 10_000)
    expect(exit).toMatchObject({ code: 3, signal: null })
  })

  it('kills a child that closed its channel and stays, and counts it as a boot failure', async () => {
    const fault = faultFile('disconnect')
    writeFileSync(fault, 'disconnect')
    const pool = await startPool(['--min-servers', '1', '--log-level', '1', '--boot-fault', fault, '--boot-failure-limit', '1'])
    const spawned = await pool.event((e) => e.event === 'childSpawn', 'the first child')
    // Five seconds of linger, then one dead check.
    const exit = await pool.event((e) => e.event === 'childExit', 'the first child to be killed', 0, 10_000)
    expect(exit).toMatchObject({ pid: spawned.pid, code: null, signal: 'SIGKILL' })
    expect(await pool.event((e) => e.event === 'runError', 'the start to fail')).toMatchObject({ code: 'NSZ_ERR_CRASH_LOOP' })
    expect(pool.stderr).toContain(`"msg":"child ${spawned.pid} lost its IPC channel and did not exit: killing it"`)
  })

  it('replaces a child that crashes while serving', async () => {
    const pool = await startPool(['--min-servers', '1'])
    const [pid] = await pool.settled(1)
    const from = pool.events.length
    expect(await pool.request('crash')).toBe('')
    expect(await pool.event((e) => e.event === 'childExit' && e.pid === pid, 'the exit', from)).toMatchObject({ code: 3 })
    const [next] = await pool.settled(1)
    expect(await pool.request('ping')).toBe(`pong ${next}`)
  })

  it('recycles a child after maxRequests; its replacement is ready before it leaves', async () => {
    const pool = await startPool(['--min-servers', '1', '--max-requests', '3'])
    const [first] = await pool.settled(1)
    let fromFirst = 0
    for (let i = 0; i < 3; i++) {
      const reply = await pool.request('ping')
      expect(reply).toMatch(/^pong \d+$/)
      if (reply === `pong ${first}`) fromFirst++
    }
    expect(fromFirst).toBe(3)
    const exit = await pool.event((e) => e.event === 'childExit' && e.pid === first, 'the first child to retire')
    expect(exit).toMatchObject({ code: 0, signal: null })
    const exiting = pool.events.findIndex((e) => e.event === 'childState' && e.pid === first && e.state === 'exiting')
    const replacementReady = pool.events.findIndex((e) => e.event === 'childReady' && e.pid !== first)
    expect(replacementReady).toBeGreaterThan(-1)
    expect(replacementReady).toBeLessThan(exiting)
    const [second] = await pool.settled(1)
    expect(await pool.request('ping')).toBe(`pong ${second}`)
  })

  it.each([
    ['throws in childInitHook', 'throw', /exited during boot \(exit code 1\)/],
    ['exits with a code', 'exit', /exited during boot \(exit code 2\)/],
    ['is SIGKILLed', 'kill', /exited during boot \(signal SIGKILL\)/],
    ['hangs past childStartTimeout', 'hang', /did not report ready within 1000 ms/]
  ])('a child that %s at boot is retried with backoff, and a crash loop makes run() reject', async (_, fault, detail) => {
    // A child that fails by itself gets a start timeout it cannot reach on a loaded machine,
    // so the failure recorded is its own; only the hanging child is timed out.
    const startTimeout = fault === 'hang' ? '1' : '30'
    const file = faultFile(fault)
    writeFileSync(file, fault)
    const pool = await startPool(['--min-servers', '1', '--boot-fault', file, '--boot-failure-limit', '3', '--child-start-timeout', startTimeout])
    const error = await pool.event((e) => e.event === 'runError', 'run() to reject')
    expect(error.code).toBe('NSZ_ERR_CRASH_LOOP')
    expect(error.message).toMatch(detail)
    expect(await pool.exit).toEqual({ code: 1, signal: null })
    // One child at a time: each spawn after the previous child's exit.
    const steps = pool.events.filter((e) => e.event === 'childSpawn' || e.event === 'childExit').map((e) => e.event)
    expect(steps).toEqual(['childSpawn', 'childExit', 'childSpawn', 'childExit', 'childSpawn', 'childExit'])
    await allGone([...pool.seen], 5000)
  })
})
