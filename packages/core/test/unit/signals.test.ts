import { describe, expect, it, onTestFinished } from 'vitest'
import { SignalRegistry } from '@net-server/core'

describe('SignalRegistry', () => {
  it('installs one process listener per signal and removes them all', () => {
    const before = process.listenerCount('SIGUSR2')
    const registry = new SignalRegistry(() => {})
    onTestFinished(() => registry.uninstall())
    registry.install({ SIGUSR2: () => {}, SIGHUP: () => {} })
    expect(registry.signals.sort()).toEqual(['SIGHUP', 'SIGUSR2'])
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    registry.install({ SIGUSR2: () => {} })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    expect(registry.signals).toEqual(['SIGUSR2'])
    registry.uninstall()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
    expect(registry.signals).toEqual([])
  })

  it('reports an action that throws and goes on with the next signal', async () => {
    const failures: Array<[string, unknown]> = []
    const registry = new SignalRegistry((signal, err) => failures.push([signal, err]))
    onTestFinished(() => registry.uninstall())
    const boom = new Error('boom')
    const second = new Promise<void>((resolve) => {
      let n = 0
      registry.install({ SIGUSR2: () => { if (++n === 1) throw boom; resolve() } })
    })
    process.kill(process.pid, 'SIGUSR2')
    process.kill(process.pid, 'SIGUSR2')
    await second
    expect(failures).toEqual([['SIGUSR2', boom]])
  })
})
