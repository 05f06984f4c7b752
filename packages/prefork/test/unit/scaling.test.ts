import type { ChildState } from '@net-server/core'
import { describe, expect, it } from 'vitest'
import {
  boundsAfterSpawn, childrenToStart, childrenToStop, countChildren, growForWait, initialBounds, lowerBounds,
  pickChildrenToStop, poolStarted, raiseBounds, type PoolBounds, type PoolTally, type StopCandidate
} from '../../src/scaling.js'

/** A tally with every count given or 0. */
const tally = (t: Partial<PoolTally>): PoolTally => ({ total: 0, starting: 0, waiting: 0, ready: 0, retiring: 0, ...t })
const bounds = (minServers: number, maxServers: number, extra = 0): PoolBounds => ({ minServers, maxServers, extra })

interface Child extends StopCandidate { readonly name: string }
const child = (name: string, state: ChildState, startedAt: number, flags: Partial<Pick<Child, 'retiring' | 'stopSent'>> = {}): Child =>
  ({ name, state, startedAt, retiring: false, stopSent: false, ...flags })

describe('countChildren', () => {
  it('counts an empty pool as zeros', () => {
    expect(countChildren([])).toEqual(tally({}))
  })

  it('leaves children told to stop out, and counts retiring ones apart from the total', () => {
    const children = [
      child('a', 'starting', 1),
      child('b', 'waiting', 2),
      child('c', 'waiting', 3),
      child('d', 'processing', 4),
      child('e', 'exiting', 5, { stopSent: true }),
      child('f', 'waiting', 6, { retiring: true }),
      child('g', 'exiting', 7, { retiring: true, stopSent: true })
    ]
    expect(countChildren(children)).toEqual({ total: 4, starting: 1, waiting: 2, ready: 3, retiring: 1 })
  })

  it('counts as waiting only the idle children, not the busy or starting ones', () => {
    const children = [child('a', 'waiting', 1), child('b', 'waiting', 2), child('c', 'waiting', 3), child('d', 'processing', 4)]
    expect(countChildren(children)).toEqual({ total: 4, starting: 0, waiting: 3, ready: 4, retiring: 0 })
  })
})

describe('childrenToStart', () => {
  const cases: Array<[string, PoolTally, PoolBounds, number, boolean, number]> = [
    // what, tally, bounds, minSpareServers, probing, children to start
    ['a new pool starts minServers', tally({}), bounds(5, 50), 2, false, 5],
    ['a pool at minServers with every child busy starts minSpareServers more', tally({ total: 5, ready: 5 }), bounds(5, 50), 2, false, 2],
    ['a starting child counts as a future spare', tally({ total: 6, ready: 5, waiting: 1, starting: 1 }), bounds(5, 50), 2, false, 0],
    ['enough idle children: none', tally({ total: 5, ready: 5, waiting: 3 }), bounds(5, 50), 2, false, 0],
    ['spares never go past maxServers', tally({ total: 49, ready: 49 }), bounds(5, 50), 2, false, 1],
    ['a full pool starts none', tally({ total: 50, ready: 50 }), bounds(5, 50), 2, false, 0],
    ['minServers never goes past maxServers either', tally({}), bounds(8, 3), 0, false, 3],
    ['one replacement per retiring child', tally({ total: 3, ready: 3, waiting: 3, retiring: 2 }), bounds(3, 50), 0, false, 2],
    ['replacements already starting are not doubled', tally({ total: 5, ready: 3, waiting: 3, starting: 2, retiring: 2 }), bounds(3, 50), 0, false, 0],
    ['a replacement may take the pool past minServers but not past maxServers', tally({ total: 4, ready: 4, waiting: 4, retiring: 1 }), bounds(2, 4), 0, false, 0],
    ['TTIN at minServers: one more', tally({ total: 5, ready: 5, waiting: 5 }), bounds(6, 51, 1), 2, false, 1],
    ['TTIN above minServers (spares): still one more', tally({ total: 8, ready: 8, waiting: 8 }), bounds(6, 51, 1), 2, false, 1],
    ['two TTINs pending: two more', tally({ total: 8, ready: 8, waiting: 8 }), bounds(7, 52, 2), 0, false, 2],
    ['TTIN at maxServers: none', tally({ total: 3, ready: 3, waiting: 3 }), bounds(3, 3, 1), 0, false, 0],
    ['while children fail to boot, one at a time', tally({}), bounds(5, 50), 2, true, 1],
    ['while children fail to boot, none while one is starting', tally({ total: 1, starting: 1 }), bounds(5, 50), 2, true, 0],
    ['an empty pool by choice stays empty', tally({}), bounds(0, 1), 0, false, 0]
  ]
  it.each(cases)('%s', (_what, t, b, minSpareServers, probing, expected) => {
    expect(childrenToStart(t, b, { minSpareServers }, probing)).toBe(expected)
  })
})

describe('childrenToStop', () => {
  const spare = { minSpareServers: 0, maxSpareServers: 2, minChildTtl: 1000 }
  const cases: Array<[string, PoolTally, PoolBounds, number, { count: number, busy: boolean }]> = [
    // what, tally, bounds, ms since the last spawn, order
    ['idle children past maxSpareServers leave', tally({ total: 8, ready: 8, waiting: 6 }), bounds(2, 50), 1000, { count: 4, busy: false }],
    ['never below minServers', tally({ total: 6, ready: 6, waiting: 6 }), bounds(5, 50), 1000, { count: 1, busy: false }],
    ['not within minChildTtl of the last spawn', tally({ total: 8, ready: 8, waiting: 6 }), bounds(2, 50), 999, { count: 0, busy: false }],
    ['maxSpareServers idle children stay', tally({ total: 8, ready: 8, waiting: 2 }), bounds(2, 50), 1000, { count: 0, busy: false }],
    ['a pool at minServers stays', tally({ total: 2, ready: 2, waiting: 2 }), bounds(2, 50), 1000, { count: 0, busy: false }],
    ['a pool below minServers (after TTIN) stops none, idle or not', tally({ total: 5, ready: 5, waiting: 5 }), bounds(6, 50), 1000, { count: 0, busy: false }],
    ['past maxServers (TTOU): the extra ones leave, busy ones too, at once', tally({ total: 5, ready: 5 }), bounds(2, 3), 0, { count: 2, busy: true }],
    ['at maxServers: nothing to do', tally({ total: 3, ready: 3, waiting: 1 }), bounds(2, 3), 1000, { count: 0, busy: false }]
  ]
  it.each(cases)('%s', (_what, t, b, sinceLastSpawn, expected) => {
    expect(childrenToStop(t, b, spare, sinceLastSpawn)).toEqual(expected)
  })
})

describe('pickChildrenToStop', () => {
  const pool = [
    child('busy-old', 'processing', 1),
    child('idle-young', 'waiting', 9),
    child('starting', 'starting', 5),
    child('idle-old', 'waiting', 2),
    child('leaving', 'exiting', 0, { stopSent: true }),
    child('retiring', 'waiting', 0, { retiring: true }),
    child('busy-young', 'processing', 8)
  ]
  const names = (picked: Child[]): string[] => picked.map((c) => c.name)

  it('takes idle children first, the oldest first, then starting ones', () => {
    expect(names(pickChildrenToStop(pool, 3, false))).toEqual(['idle-old', 'idle-young', 'starting'])
  })

  it('never takes busy children unless told to, nor leaving or retiring ones', () => {
    expect(names(pickChildrenToStop(pool, 10, false))).toEqual(['idle-old', 'idle-young', 'starting'])
    expect(names(pickChildrenToStop(pool, 10, true))).toEqual(['idle-old', 'idle-young', 'starting', 'busy-old', 'busy-young'])
  })

  it('takes none for zero or less', () => {
    expect(pickChildrenToStop(pool, 0, true)).toEqual([])
    expect(pickChildrenToStop(pool, -2, true)).toEqual([])
  })
})

describe('TTIN and TTOU', () => {
  it('start from the options', () => {
    expect(initialBounds({ minServers: 5, maxServers: 50 })).toEqual(bounds(5, 50))
  })

  it('TTIN raises both bounds and asks for one more child', () => {
    expect(raiseBounds(bounds(5, 50))).toEqual(bounds(6, 51, 1))
    expect(raiseBounds(bounds(6, 51, 1))).toEqual(bounds(7, 52, 2))
  })

  it('TTOU cancels a pending TTIN before it stops a child', () => {
    expect(lowerBounds(bounds(6, 51, 1), tally({ total: 5 }))).toEqual({ bounds: bounds(5, 50), stop: 0 })
  })

  it('TTOU stops one child when the pool has more than the new minServers', () => {
    expect(lowerBounds(bounds(5, 50), tally({ total: 5 }))).toEqual({ bounds: bounds(4, 49), stop: 1 })
    expect(lowerBounds(bounds(5, 50), tally({ total: 4 }))).toEqual({ bounds: bounds(4, 49), stop: 0 })
  })

  it('TTOU never takes the bounds below 0', () => {
    expect(lowerBounds(bounds(0, 1), tally({ total: 1 }))).toEqual({ bounds: bounds(0, 0), stop: 1 })
    expect(lowerBounds(bounds(0, 0), tally({}))).toEqual({ bounds: bounds(0, 0), stop: 0 })
  })

  it('a spawn serves as many pending TTINs as it started children', () => {
    expect(boundsAfterSpawn(bounds(7, 52, 2), 1)).toEqual(bounds(7, 52, 1))
    expect(boundsAfterSpawn(bounds(7, 52, 2), 5)).toEqual(bounds(7, 52, 0))
    expect(boundsAfterSpawn(bounds(7, 52, 0), 1)).toEqual(bounds(7, 52, 0))
  })

  it('moved bounds drive what to start: TTIN twice then TTOU leaves one more child to start', () => {
    let b = raiseBounds(raiseBounds(initialBounds({ minServers: 2, maxServers: 8 })))
    b = lowerBounds(b, tally({ total: 2, ready: 2, waiting: 2 })).bounds
    expect(b).toEqual(bounds(3, 9, 1))
    expect(childrenToStart(tally({ total: 2, ready: 2, waiting: 2 }), b, { minSpareServers: 0 }, false)).toBe(1)
  })
})

describe('poolStarted', () => {
  it('is true once minServers children are ready', () => {
    expect(poolStarted(tally({ total: 3, ready: 2, starting: 1 }), bounds(3, 8))).toBe(false)
    expect(poolStarted(tally({ total: 3, ready: 3 }), bounds(3, 8))).toBe(true)
    expect(poolStarted(tally({}), bounds(0, 8))).toBe(true)
  })
})

describe('growForWait', () => {
  const on = { scaleUpWait: 200, scaleUpCooldown: 1000 }
  const busy = tally({ total: 2, ready: 2 })
  it.each<[string, number, number, PoolTally, PoolBounds, typeof on, { grow: boolean, recheck: number | undefined }]>([
    ['off (scaleUpWait 0)', 5000, Infinity, busy, bounds(1, 4), { ...on, scaleUpWait: 0 }, { grow: false, recheck: undefined }],
    ['nothing waits: stop looking', 0, Infinity, busy, bounds(1, 4), on, { grow: false, recheck: undefined }],
    ['not waited long enough: look again when it will have', 50, Infinity, busy, bounds(1, 4), on, { grow: false, recheck: 150 }],
    ['waited long enough: one more child, then look after the cool-down', 200, Infinity, busy, bounds(1, 4), on, { grow: true, recheck: 1000 }],
    ['within the cool-down: look again at its end', 900, 400, busy, bounds(1, 4), on, { grow: false, recheck: 600 }],
    ['a child is starting: it will take from the queue', 900, 2000, tally({ total: 3, ready: 2, starting: 1 }), bounds(1, 4), on, { grow: false, recheck: 200 }],
    ['at maxServers: stop looking', 900, 2000, tally({ total: 4, ready: 4 }), bounds(1, 4), on, { grow: false, recheck: undefined }],
    ['a pending TTIN fills the last place', 900, 2000, tally({ total: 3, ready: 3 }), bounds(1, 4, 1), on, { grow: false, recheck: undefined }],
    ['a broker without children never grows', 900, 2000, tally({}), bounds(0, 0), on, { grow: false, recheck: undefined }]
  ])('%s', (_, wait, since, t, b, options, decision) => {
    expect(growForWait(wait, since, t, b, options)).toEqual(decision)
  })
})
