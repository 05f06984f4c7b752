import { describe, expect, it } from 'vitest'
import type { DispatchService } from '@net-server/zmq'
import { FairQueue, type FairJob } from '../../src/fair-queue.js'

interface QueuedJob extends FairJob<QueuedJob> {}

const on: DispatchService = { name: 's', waiting: new FairQueue<QueuedJob>() }
const job = (id: number, client: string): QueuedJob =>
  ({ id, service: on, client: Buffer.from(client), clientKey: client, queuedAt: id, older: undefined, newer: undefined })

const ids = (jobs: Iterable<QueuedJob>): number[] => [...jobs].map((j) => j.id)

/**
 * Takes the job in turn until none is left; the ids in the order taken. Stops after as
 * many takes as there were jobs, so that a queue that never empties fails, not hangs.
 */
function takeAll (q: FairQueue<QueuedJob>): number[] {
  const out: number[] = []
  let taken = true
  const jobs = q.length
  for (let next = q.nextInTurn(); next !== undefined && out.length < jobs; next = q.nextInTurn()) {
    taken &&= q.take(next)
    out.push(next.id)
  }
  expect(taken).toBe(true)
  expect(q.length, 'jobs left after taking each in turn').toBe(0)
  expect(q.nextInTurn()).toBeUndefined()
  return out
}

describe('the fair queue of a service', () => {
  it('serves clients in turn, each client\'s jobs in the order they came', () => {
    const q = new FairQueue<QueuedJob>()
    const jobs = [job(1, 'a'), job(2, 'a'), job(3, 'a'), job(4, 'b'), job(5, 'c'), job(6, 'b')]
    for (const j of jobs) q.push(j)
    expect(q.length).toBe(6)
    expect(q.clients).toBe(3)
    // The arrival order stays what the view iterates and indexes.
    expect(ids(q)).toEqual([1, 2, 3, 4, 5, 6])
    expect(q.peek()?.id).toBe(1)
    expect(q.at(0)?.id).toBe(1)
    expect(q.at(3)?.id).toBe(4)
    expect(q.at(5)?.id).toBe(6)
    expect(q.at(6)).toBeUndefined()
    expect(q.at(7)).toBeUndefined()
    expect(q.at(-1)).toBeUndefined()
    expect(takeAll(q)).toEqual([1, 4, 5, 2, 6, 3])
    expect(q.length).toBe(0)
    expect(q.clients).toBe(0)
    expect(q.peek()).toBeUndefined()
  })

  it('puts a job sent again first, and its client first in turn when it had none waiting', () => {
    const q = new FairQueue<QueuedJob>()
    q.push(job(2, 'a'))
    q.push(job(3, 'b'))
    q.unshift(job(1, 'c'))
    expect(ids(q)).toEqual([1, 2, 3])
    expect(q.nextInTurn()?.id).toBe(1)
    // A client with jobs waiting keeps its place in turn; the job goes first of its lane.
    q.unshift(job(0, 'b'))
    expect(takeAll(q)).toEqual([1, 2, 0, 3])
  })

  it('takes a job sent again into an empty queue as its only job, first and last', () => {
    const q = new FairQueue<QueuedJob>()
    const again = job(1, 'a')
    q.unshift(again)
    expect(q.length).toBe(1)
    expect(q.peek()).toBe(again)
    expect(q.nextInTurn()).toBe(again)
    q.push(job(2, 'b'))
    q.unshift(job(0, 'c'))
    // The newest job is still the last pushed: the next one arrives after it.
    q.push(job(3, 'd'))
    expect(ids(q)).toEqual([0, 1, 2, 3])
    expect(q.length).toBe(4)
    expect(takeAll(q)).toEqual([0, 1, 2, 3])
  })

  it('removes a job without passing its client\'s turn, and forgets a client with none left', () => {
    const q = new FairQueue<QueuedJob>()
    const [a1, a2, b1, c1] = [job(1, 'a'), job(2, 'a'), job(3, 'b'), job(4, 'c')]
    for (const j of [a1, a2, b1, c1]) q.push(j)
    expect(q.remove(a1)).toBe(true)
    expect(q.remove(a1)).toBe(false)
    expect(q.remove(job(9, 'nobody'))).toBe(false)
    expect(q.nextInTurn()).toBe(a2)
    expect(q.remove(b1)).toBe(true)
    expect(q.clients).toBe(2)
    expect(ids(q)).toEqual([2, 4])
    expect(q.ofClient('a')).toEqual([a2])
    expect(q.ofClient('b')).toEqual([])
    expect(takeAll(q)).toEqual([2, 4])
  })

  it('lets a policy take any job: the client it belongs to goes last in turn', () => {
    const q = new FairQueue<QueuedJob>()
    for (const j of [job(1, 'a'), job(2, 'b'), job(3, 'b'), job(4, 'c')]) q.push(j)
    // The newest job (b's second): b goes last in turn, after c.
    expect(q.take(q.at(2)!)).toBe(true)
    expect(takeAll(q)).toEqual([1, 4, 2])
    expect(q.take(job(9, 'z'))).toBe(false)
  })

  it('drains every job in arrival order and is empty after', () => {
    const q = new FairQueue<QueuedJob>()
    for (const j of [job(1, 'a'), job(2, 'b'), job(3, 'a')]) q.push(j)
    expect(ids(q.drain())).toEqual([1, 2, 3])
    expect(q.length).toBe(0)
    expect(q.clients).toBe(0)
    expect(q.nextInTurn()).toBeUndefined()
    expect([...q]).toEqual([])
    q.push(job(4, 'a'))
    expect(takeAll(q)).toEqual([4])
  })

  it('stays quick with one client flooding beside many others', () => {
    const q = new FairQueue<QueuedJob>()
    let id = 0
    for (let i = 0; i < 50_000; i++) q.push(job(++id, 'flood'))
    for (let c = 0; c < 1000; c++) q.push(job(++id, `polite-${c}`))
    const started = performance.now()
    const first = takeAll(q).slice(0, 3)
    expect(first).toEqual([1, 50_001, 50_002])
    expect(performance.now() - started).toBeLessThan(500)
  })
})
