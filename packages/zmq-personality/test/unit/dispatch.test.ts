import { describe, expect, it } from 'vitest'
import { leastRecentlyUsed, type DispatchService, type DispatchWorker } from '@net-server/zmq'
import { checkDispatchPolicy } from '../../src/dispatch.js'
import { ReadySet } from '../../src/ready-set.js'
import { FairQueue, type FairJob } from '../../src/fair-queue.js'

interface PlainWorker extends DispatchWorker { freeSlots: number }

const worker = (id: string, freeSlots = 1, slots = Math.max(1, freeSlots)): PlainWorker =>
  ({ id, pid: undefined, services: [], slots, freeSlots, served: 0 })

interface QueuedJob extends FairJob<QueuedJob> {}

const service = (name: string): DispatchService & { waiting: FairQueue<QueuedJob> } => ({ name, waiting: new FairQueue() })

const job = (id: number, on: DispatchService, client = 'c'): QueuedJob =>
  ({ id, service: on, client: Buffer.from(client), clientKey: client, queuedAt: 1_700_000_000_000 + id, older: undefined, newer: undefined })

const ids = (workers: Iterable<DispatchWorker>): string[] => [...workers].map((w) => w.id)

describe('the ready workers of a service', () => {
  it('keeps workers of one slot in least-recently-used order', () => {
    const ready = new ReadySet<PlainWorker>()
    const [a, b, c] = [worker('a'), worker('b'), worker('c')]
    ready.add(a)
    ready.add(b)
    ready.add(c)
    expect(ids(ready)).toEqual(['a', 'b', 'c'])
    expect(ready.first()).toBe(a)
    // a takes a job and comes back: it is now the most recently used.
    ready.delete(a)
    ready.add(a)
    expect(ids(ready)).toEqual(['b', 'c', 'a'])
    // Adding a worker that is there already keeps its place.
    ready.add(b)
    expect(ids(ready)).toEqual(['b', 'c', 'a'])
    expect(ready.size).toBe(3)
    expect(ready.has(c)).toBe(true)
    expect(ready.delete(c)).toBe(true)
    expect(ready.delete(c)).toBe(false)
    expect(ready.has(c)).toBe(false)
    expect(ready.size).toBe(2)
  })

  it('puts the workers with the most free slots first, least recently used among equals', () => {
    const ready = new ReadySet<PlainWorker>()
    const one = worker('one', 1, 4)
    const three = worker('three', 3, 4)
    const threeToo = worker('three-too', 3, 4)
    const two = worker('two', 2, 4)
    for (const w of [one, three, threeToo, two]) ready.add(w)
    expect(ids(ready)).toEqual(['three', 'three-too', 'two', 'one'])
    expect(ready.first()).toBe(three)
    // `three` takes a job: out, one slot fewer, back in behind the other worker with two.
    ready.delete(three)
    three.freeSlots--
    ready.add(three)
    expect(ids(ready)).toEqual(['three-too', 'two', 'three', 'one'])
    // The top bucket empties: first() finds the next one down.
    ready.delete(threeToo)
    expect(ready.first()).toBe(two)
    ready.delete(two)
    ready.delete(three)
    expect(ready.first()).toBe(one)
    ready.delete(one)
    expect(ready.first()).toBeUndefined()
    expect(ready.size).toBe(0)
  })
})

describe('the default dispatch policy (leastRecentlyUsed)', () => {
  it('gives a new job to the first ready worker: the most free slots, least recently used', () => {
    const s = service('default')
    const ready = new ReadySet<PlainWorker>()
    const [a, b] = [worker('a', 1, 2), worker('b', 2)]
    ready.add(a)
    ready.add(b)
    expect(leastRecentlyUsed.pickWorker(job(1, s), ready)).toBe(b)
    ready.delete(b)
    expect(leastRecentlyUsed.pickWorker(job(2, s), ready)).toBe(a)
  })

  it('gives a free worker the job whose turn it is, the oldest of those when it serves several services', () => {
    const [x, y, z] = [service('x'), service('y'), service('z')]
    const w = { ...worker('w'), services: [x, y, z] }
    expect(leastRecentlyUsed.pickJob(w, w.services)).toBeUndefined()
    x.waiting.push(job(5, x))
    y.waiting.push(job(3, y))
    y.waiting.push(job(4, y))
    // A job sent again goes first in its queue, and is the oldest of its service.
    const again = job(1, z)
    z.waiting.push(job(6, z))
    z.waiting.unshift(again)
    expect(leastRecentlyUsed.pickJob(w, w.services)).toBe(again)
    z.waiting.take(again)
    expect(leastRecentlyUsed.pickJob(w, w.services)?.id).toBe(3)
    expect(leastRecentlyUsed.pickJob(w, [x, z])?.id).toBe(5)
    // A service with nothing waiting is passed over, wherever it comes.
    const idle = service('idle')
    expect(leastRecentlyUsed.pickJob(w, [x, idle])?.id).toBe(5)
    expect(leastRecentlyUsed.pickJob(w, [idle, x])?.id).toBe(5)
  })

  it('takes waiting jobs round-robin across clients, each client\'s own oldest first', () => {
    const s = service('default')
    const w = { ...worker('w'), services: [s] }
    // One client floods, two are polite: the flood does not delay them.
    for (let i = 1; i <= 5; i++) s.waiting.push(job(i, s, 'flood'))
    s.waiting.push(job(6, s, 'polite-a'))
    s.waiting.push(job(7, s, 'polite-b'))
    s.waiting.push(job(8, s, 'polite-a'))
    const order: number[] = []
    for (let next = leastRecentlyUsed.pickJob(w, w.services); next !== undefined && order.length < 8; next = leastRecentlyUsed.pickJob(w, w.services)) {
      s.waiting.take(next as QueuedJob)
      order.push(next.id)
    }
    expect(order).toEqual([1, 6, 7, 2, 8, 3, 4, 5])
  })
})

describe('checkDispatchPolicy', () => {
  it('takes undefined or an object with both methods, and refuses anything else naming the option', () => {
    expect(checkDispatchPolicy(undefined)).toBeUndefined()
    expect(checkDispatchPolicy(leastRecentlyUsed)).toBe(leastRecentlyUsed)
    class Mine {
      pickWorker (): undefined { return undefined }
      pickJob (): undefined { return undefined }
    }
    const mine = new Mine()
    expect(checkDispatchPolicy(mine)).toBe(mine)
    // A function is no policy, even with both methods attached.
    const callable = Object.assign(() => undefined, { pickWorker: () => undefined, pickJob: () => undefined })
    for (const bad of [null, 5, 'lru', () => undefined, callable, { pickWorker: () => undefined }, { pickJob: () => undefined }]) {
      expect(() => checkDispatchPolicy(bad)).toThrow(new TypeError('options.dispatchPolicy must be an object with pickWorker and pickJob methods (a DispatchPolicy)'))
    }
    // The message names the option it was given as.
    expect(() => checkDispatchPolicy({}, 'policy')).toThrow(new TypeError('options.policy must be an object with pickWorker and pickJob methods (a DispatchPolicy)'))
  })
})
