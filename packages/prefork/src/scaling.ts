/**
 * The pool's scaling rules, as Net::Server::PreFork's `coordinate_children` holds
 * them: how many children to start, how many to stop and which, and how TTIN / TTOU
 * move the bounds. Pure functions of plain data (the tally, the bounds, the
 * options), so each rule reads, and is tested, on its own; the parent feeds them
 * its child table and acts on the answer.
 */
import type { ChildState } from '@net-server/core'
import type { ResolvedPreForkOptions } from './options.js'

/** What the rules need to know of one child. */
export interface TalliedChild {
  /** Its state in the tally. */
  readonly state: ChildState
  /** It waits for its replacement to be ready (max requests reached, HUP). */
  readonly retiring: boolean
  /** It was told to stop. */
  readonly stopSent: boolean
}

/** A child as the stop rule ranks it. */
export interface StopCandidate extends TalliedChild {
  /** When it was spawned: among equals the oldest leaves first. */
  readonly startedAt: number
}

/**
 * The pool in numbers. Children told to stop and retiring children are not part of
 * `total`: the first are leaving, the second leave once replaced.
 */
export interface PoolTally {
  /** Children neither retiring nor told to stop. */
  readonly total: number
  /** Of `total`, children that have not reported ready yet. */
  readonly starting: number
  /** Of `total`, idle children. */
  readonly waiting: number
  /** Of `total`, children that reported ready (`waiting` or `processing`). */
  readonly ready: number
  /** Children waiting for their replacement, not yet told to stop. */
  readonly retiring: number
}

/** The pool's bounds now: the options as moved by TTIN / TTOU. */
export interface PoolBounds {
  /** Children to keep running at least (`minServers`, ± TTIN / TTOU). */
  readonly minServers: number
  /** Children to run at most (`maxServers`, ± TTIN / TTOU). */
  readonly maxServers: number
  /** TTIN requests not yet served by a spawn: each asks for one more child. */
  readonly extra: number
}

/** The options the spare rules read. */
export type SpareOptions = Pick<ResolvedPreForkOptions, 'minSpareServers' | 'maxSpareServers' | 'minChildTtl'>

/** How many children to stop, and whether busy ones may go (after their current request). */
export interface StopOrder {
  readonly count: number
  readonly busy: boolean
}

/** Counts `children` into a {@link PoolTally}. */
export function countChildren (children: Iterable<TalliedChild>): PoolTally {
  let total = 0
  let starting = 0
  let waiting = 0
  let ready = 0
  let retiring = 0
  for (const c of children) {
    if (c.stopSent) continue
    if (c.retiring) {
      retiring++
      continue
    }
    total++
    if (c.state === 'starting') starting++
    else ready++
    if (c.state === 'waiting') waiting++
  }
  return { total, starting, waiting, ready, retiring }
}

/** The bounds a pool starts with: the options, no TTIN pending. */
export function initialBounds (options: Pick<ResolvedPreForkOptions, 'minServers' | 'maxServers'>): PoolBounds {
  return { minServers: options.minServers, maxServers: options.maxServers, extra: 0 }
}

/**
 * How many children to start now: enough for `minServers`, for `minSpareServers`
 * idle ones (a starting child counts as a future spare), for one replacement per
 * retiring child and for the pending TTINs, but never past `maxServers`. While
 * children fail to boot (`probing`) the pool tries one child at a time. Zero or
 * less means none.
 */
export function childrenToStart (tally: PoolTally, bounds: PoolBounds, options: Pick<SpareOptions, 'minSpareServers'>, probing: boolean): number {
  const { total, starting, waiting, retiring } = tally
  let need = Math.max(
    bounds.minServers - total,
    options.minSpareServers - waiting - starting,
    retiring - starting,
    bounds.extra
  )
  need = Math.min(need, bounds.maxServers - total)
  if (probing) need = Math.min(need, 1 - starting)
  return need
}

/**
 * How many children the periodic check stops (`checkForWaiting`): those past
 * `maxServers`, busy ones too; else the idle ones past `maxSpareServers`, never
 * below `minServers`, and only once `minChildTtl` has passed since the last spawn
 * (`sinceLastSpawn`, in ms), so that a pool that just grew does not shrink at once.
 */
export function childrenToStop (tally: PoolTally, bounds: PoolBounds, options: SpareOptions, sinceLastSpawn: number): StopOrder {
  const { total, waiting } = tally
  if (total > bounds.maxServers) return { count: total - bounds.maxServers, busy: true }
  if (waiting > options.maxSpareServers && total > bounds.minServers && sinceLastSpawn >= options.minChildTtl) {
    return { count: Math.min(waiting - options.maxSpareServers, total - bounds.minServers), busy: false }
  }
  return { count: 0, busy: false }
}

/**
 * Which children leave when `n` must (Net::Server's `kill_n_children`): idle ones
 * first, then starting ones, then, only with `busy`, busy ones; the oldest first
 * among equals. Children already leaving or retiring are never picked.
 */
export function pickChildrenToStop<T extends StopCandidate> (children: Iterable<T>, n: number, busy: boolean): T[] {
  const rank = (c: T): number => c.state === 'waiting' ? 0 : c.state === 'starting' ? 1 : 2
  return [...children]
    .filter((c) => !c.stopSent && !c.retiring && (busy || c.state !== 'processing'))
    .sort((a, b) => rank(a) - rank(b) || a.startedAt - b.startedAt)
    .slice(0, Math.max(0, n))
}

/** The bounds after TTIN: `minServers` and `maxServers` up by one, and one more child asked for. */
export function raiseBounds (bounds: PoolBounds): PoolBounds {
  return { minServers: bounds.minServers + 1, maxServers: bounds.maxServers + 1, extra: bounds.extra + 1 }
}

/**
 * The bounds after TTOU: `minServers` and `maxServers` down by one (not below 0).
 * A pending TTIN is cancelled first; otherwise one child leaves (`stop`, busy ones
 * included) when the pool has more than the new `minServers`.
 */
export function lowerBounds (bounds: PoolBounds, tally: PoolTally): { bounds: PoolBounds, stop: number } {
  const minServers = Math.max(0, bounds.minServers - 1)
  const maxServers = Math.max(0, bounds.maxServers - 1)
  if (bounds.extra > 0) return { bounds: { minServers, maxServers, extra: bounds.extra - 1 }, stop: 0 }
  return { bounds: { minServers, maxServers, extra: 0 }, stop: tally.total > minServers ? 1 : 0 }
}

/** The bounds after `spawned` children were started: they serve as many pending TTINs. */
export function boundsAfterSpawn (bounds: PoolBounds, spawned: number): PoolBounds {
  return { ...bounds, extra: Math.max(0, bounds.extra - spawned) }
}

/** True when the pool has started: at least `minServers` ready children. */
export function poolStarted (tally: PoolTally, bounds: PoolBounds): boolean {
  return tally.ready >= bounds.minServers
}

/** The options the queue-wait rule reads. */
export type WaitOptions = Pick<ResolvedPreForkOptions, 'scaleUpWait' | 'scaleUpCooldown'>

/** What the queue-wait rule decides: one more child now or not, and when to look again (`undefined`: not until a request waits anew). */
export interface WaitDecision {
  readonly grow: boolean
  readonly recheck: number | undefined
}

/**
 * Whether the wait of the oldest waiting request asks for one more child: it has
 * waited at least `scaleUpWait` ms (`wait`; 0 when none waits), the last growth for
 * waiting was at least `scaleUpCooldown` ms ago (`sinceGrowth`), no child is starting
 * (one on its way will take from the queue) and the pool is under `maxServers`. Off
 * with `scaleUpWait` 0. While requests wait it says when to look again; at
 * `maxServers`, or with nothing waiting, it stops looking.
 */
export function growForWait (wait: number, sinceGrowth: number, tally: PoolTally, bounds: PoolBounds, options: WaitOptions): WaitDecision {
  const { scaleUpWait, scaleUpCooldown } = options
  if (scaleUpWait === 0 || wait <= 0 || tally.total + bounds.extra >= bounds.maxServers) return { grow: false, recheck: undefined }
  const due = Math.max(scaleUpWait - wait, scaleUpCooldown - sinceGrowth)
  if (due > 0) return { grow: false, recheck: due }
  if (tally.starting > 0) return { grow: false, recheck: scaleUpWait }
  return { grow: true, recheck: Math.max(scaleUpWait, scaleUpCooldown) }
}
