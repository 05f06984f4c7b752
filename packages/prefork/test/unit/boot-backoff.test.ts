import { describe, expect, it } from 'vitest'
import { afterBootFailure, bootDelay, crashLoop, isProbing, NO_BOOT_FAILURE, spawnWait, type BootBackoff } from '../../src/boot-backoff.js'

const options = { bootBackoffBase: 500, bootBackoffMax: 30_000, bootFailureLimit: 3 }

describe('boot back-off', () => {
  it.each([[1, 500], [2, 1000], [3, 2000], [6, 16_000], [7, 30_000], [20, 30_000]])('failure %i in a row waits %i ms', (failures, delay) => {
    expect(bootDelay(failures, options)).toBe(delay)
  })

  it('a failure counts one more and sets the earliest next spawn', () => {
    const first = afterBootFailure(NO_BOOT_FAILURE, 10_000, options)
    expect(first).toEqual({ failures: 1, notBefore: 10_500, delay: 500 })
    const second = afterBootFailure(first, 10_600, options)
    expect(second).toEqual({ failures: 2, notBefore: 11_600, delay: 1000 })
  })

  it('the next spawn waits until notBefore, then goes at once', () => {
    const state: BootBackoff = { failures: 1, notBefore: 10_500 }
    expect(spawnWait(state, 10_000)).toBe(500)
    expect(spawnWait(state, 10_500)).toBe(0)
    expect(spawnWait(state, 11_000)).toBe(0)
    expect(spawnWait(NO_BOOT_FAILURE, 10_000)).toBe(0)
  })

  it('probes with one child at a time while children fail to boot', () => {
    expect(isProbing(NO_BOOT_FAILURE)).toBe(false)
    expect(isProbing({ failures: 1, notBefore: 0 })).toBe(true)
  })

  it('is a crash loop from bootFailureLimit failures in a row, reported once per streak', () => {
    let state: BootBackoff = NO_BOOT_FAILURE
    const verdicts: string[] = []
    for (let i = 0; i < 5; i++) {
      state = afterBootFailure(state, 0, options)
      verdicts.push(crashLoop(state, options))
    }
    expect(verdicts).toEqual(['no', 'no', 'new', 'ongoing', 'ongoing'])
    expect(crashLoop(NO_BOOT_FAILURE, options)).toBe('no')
  })
})
