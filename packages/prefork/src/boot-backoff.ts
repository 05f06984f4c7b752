/**
 * Boot back-off: how the pool respawns while children fail to boot. Each failure in
 * a row doubles the delay before the next spawn (from `bootBackoffBase`, at most
 * `bootBackoffMax`); `bootFailureLimit` failures in a row are a crash loop; a child
 * that becomes ready ends the streak. Pure functions of a small state, which the
 * parent keeps.
 */
import type { ResolvedPreForkOptions } from './options.js'

/** The options the back-off reads. */
export type BootBackoffOptions = Pick<ResolvedPreForkOptions, 'bootBackoffBase' | 'bootBackoffMax' | 'bootFailureLimit'>

/** Where a streak of boot failures stands. */
export interface BootBackoff {
  /** Boot failures in a row; 0 when the last child that finished booting became ready. */
  readonly failures: number
  /** No child is spawned before this time (ms, the clock's). */
  readonly notBefore: number
}

/** No boot failure: spawn at once. */
export const NO_BOOT_FAILURE: BootBackoff = Object.freeze({ failures: 0, notBefore: 0 })

/** The respawn delay after the `failures`-th boot failure in a row: `base × 2^(failures − 1)`, at most `max`. */
export function bootDelay (failures: number, options: Omit<BootBackoffOptions, 'bootFailureLimit'>): number {
  return Math.min(options.bootBackoffBase * 2 ** (failures - 1), options.bootBackoffMax)
}

/** The state after one more boot failure at `now`, with the delay it imposes before the next spawn. */
export function afterBootFailure (state: BootBackoff, now: number, options: BootBackoffOptions): BootBackoff & { readonly delay: number } {
  const failures = state.failures + 1
  const delay = bootDelay(failures, options)
  return { failures, notBefore: now + delay, delay }
}

/** How long the next spawn must still wait at `now`, in ms; 0 when it may go now. */
export function spawnWait (state: BootBackoff, now: number): number {
  return Math.max(0, state.notBefore - now)
}

/** True while children fail to boot: the pool then probes with one child at a time. */
export function isProbing (state: BootBackoff): boolean {
  return state.failures > 0
}

/**
 * Whether the streak is a crash loop: `no` below `bootFailureLimit`, `new` at the
 * failure that reaches it (reported once per streak), `ongoing` past it.
 */
export function crashLoop (state: BootBackoff, options: Pick<BootBackoffOptions, 'bootFailureLimit'>): 'no' | 'new' | 'ongoing' {
  if (state.failures < options.bootFailureLimit) return 'no'
  return state.failures === options.bootFailureLimit ? 'new' : 'ongoing'
}
