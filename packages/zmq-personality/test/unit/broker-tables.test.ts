import { afterEach, describe, expect, it, vi } from 'vitest'
import { REQ_ENVELOPE } from '@net-server/client'
import { BrokerTables, info, jobKey, type Job, type Service, type Worker } from '../../src/broker-tables.js'
import { ReadySet } from '../../src/ready-set.js'

const NOW = 1_700_000_000_000
const limits = { maxServicesPerWorker: 3, maxServices: 4 }

/** Tables with the clock stopped at `NOW`: every record made here is stamped with it. */
function tables (): BrokerTables {
  vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setTimeout', 'clearTimeout'] })
  return new BrokerTables()
}

afterEach(() => {
  vi.useRealTimers()
})

let workerCount = 0
function join (t: BrokerTables, names: readonly string[], pid?: number): Worker {
  const id = Buffer.from([0xa0, ++workerCount])
  return t.addWorker(id, id.toString('latin1'), names, pid === undefined ? undefined : { pid, services: names.slice(1) }, 7)
}

function request (t: BrokerTables, service: Service, client = 'c', body = 'x'): Job {
  return t.newJob(Buffer.from(client, 'latin1'), REQ_ENVELOPE, service, [Buffer.from(body)])
}

const ids = (jobs: Iterable<Job>): number[] => [...jobs].map((j) => j.id)

describe('services', () => {
  it('records a new service with its name frame, empty queues and no worker', () => {
    const t = tables()
    const s = t.addService('echo', false)
    expect(t.services.get('echo')).toBe(s)
    expect(s.nameFrame).toEqual(Buffer.from('echo'))
    expect(s).toMatchObject({ name: 'echo', workers: 0, known: false, declared: false, inFlight: 0 })
    expect(s.waiting.length).toBe(0)
    expect(s.ready.size).toBe(0)
    expect(t.addService('kept', true, true)).toMatchObject({ known: true, declared: true })
  })

  it('forgets an unused service once it has stayed unused until the time asked, not before', () => {
    const t = tables()
    const s = t.addService('once', true)
    t.forgetUnused(s)
    t.forgetIdle(NOW - 1)
    expect(t.services.get('once')).toBe(s)
    t.forgetIdle(NOW)
    expect(t.services.has('once')).toBe(false)
  })

  it('never marks a service that is declared, offered, running a job or holding a waiting one', () => {
    const t = tables()
    const declared = t.addService('declared', false, true)
    const offered = t.addService('offered', true)
    offered.workers = 1
    const running = t.addService('running', true)
    running.inFlight = 1
    const holding = t.addService('holding', true)
    t.enqueue(request(t, holding), false)
    for (const s of [declared, offered, running, holding]) t.forgetUnused(s)
    // Left unused later, with no new mark: still not forgotten.
    offered.workers = 0
    running.inFlight = 0
    t.drainQueue(holding)
    t.forgetIdle(Infinity)
    expect([...t.services.keys()]).toEqual(['declared', 'offered', 'running', 'holding'])
  })

  it.each([
    ['a worker offers it again', (s: Service) => { s.workers = 1 }],
    ['a job runs on it', (s: Service) => { s.inFlight = 1 }],
    ['a job waits for it', (s: Service, t: BrokerTables) => { t.enqueue(request(t, s), false) }]
  ])('keeps a marked service when, by the time it would be forgotten, %s, and does not forget it later', (_, use) => {
    const t = tables()
    const s = t.addService('back', true)
    t.forgetUnused(s)
    use(s, t)
    t.forgetIdle(Infinity)
    expect(t.services.get('back')).toBe(s)
    // The mark is gone: it takes a new one to forget the service.
    s.workers = 0
    s.inFlight = 0
    t.drainQueue(s)
    t.forgetIdle(Infinity)
    expect(t.services.get('back')).toBe(s)
  })

  it('leaves alone a service that took the place of the one marked, under the same name', () => {
    const t = tables()
    const old = t.addService('name', true)
    t.forgetUnused(old)
    const fresh = t.addService('name', true)
    t.forgetIdle(Infinity)
    expect(t.services.get('name')).toBe(fresh)
  })

  it('answers mmi.service: 200 for a service with workers, 404 for one without or unknown', () => {
    const t = tables()
    join(t, ['live'])
    t.addService('empty', true, true)
    const answer = (body: string[]): string => t.mmiService(body.map((b) => Buffer.from(b)))[0]!.toString()
    expect(answer(['live'])).toBe('200')
    expect(answer(['empty'])).toBe('404')
    expect(answer(['nothing'])).toBe('404')
    expect(answer([])).toBe('404')
  })
})

describe('registration', () => {
  it('refuses a READY for a reserved service, naming it', () => {
    expect(tables().checkRegistration(['a', 'mmi.x'], limits)).toEqual({ reason: 'reservedService', why: 'READY for the reserved service mmi.x' })
  })

  it('refuses more services than maxServicesPerWorker, and takes exactly as many', () => {
    const t = tables()
    expect(t.checkRegistration(['a', 'b', 'c', 'd'], limits))
      .toEqual({ reason: 'tooManyServices', why: 'READY for 4 services, over maxServicesPerWorker (3)' })
    expect(t.checkRegistration(['a', 'b', 'c'], limits)).toBeUndefined()
  })

  it('refuses new services past maxServices, counting only the names it does not know', () => {
    const t = tables()
    for (const name of ['a', 'b', 'c']) t.addService(name, true, true)
    expect(t.checkRegistration(['b', 'c', 'd'], limits)).toBeUndefined()
    expect(t.checkRegistration(['d'], limits)).toBeUndefined()
    expect(t.checkRegistration(['d', 'e'], limits))
      .toEqual({ reason: 'serviceTableFull', why: 'READY for 2 new services: the broker knows 3, maxServices is 4' })
    t.addService('d', true, true)
    expect(t.checkRegistration(['a', 'b', 'c'], limits)).toBeUndefined()
    expect(t.checkRegistration(['x'], limits)?.reason).toBe('serviceTableFull')
  })

  it('makes room by forgetting the unused services first, however recently they were marked', () => {
    const t = tables()
    for (const name of ['a', 'b', 'c']) t.addService(name, true, true)
    const unused = t.addService('unused', true)
    t.forgetUnused(unused)
    expect(t.checkRegistration(['new'], limits)).toBeUndefined()
    expect([...t.services.keys()]).toEqual(['a', 'b', 'c'])
  })

  it('forgets nothing when the READY adds no service, or when there is room', () => {
    const t = tables()
    const unused = t.addService('unused', true)
    t.addService('declared', false, true)
    t.forgetUnused(unused)
    // Over the limit already (it was lowered), but this READY adds nothing.
    expect(t.checkRegistration(['unused'], { maxServicesPerWorker: 1, maxServices: 1 })).toBeUndefined()
    expect(t.checkRegistration(['other'], { maxServicesPerWorker: 1, maxServices: 3 })).toBeUndefined()
    expect(t.services.get('unused')).toBe(unused)
  })
})

describe('workers', () => {
  it('records a worker with one free slot, its services known, offered once more each', () => {
    const t = tables()
    const before = t.addService('b', false, true)
    const w = t.addWorker(Buffer.from([0xca, 0xfe]), 'key', ['a', 'b'], { pid: 42, services: ['b'] }, 9)
    expect(t.workers.get('key')).toBe(w)
    expect(w).toMatchObject({ key: 'key', id: 'cafe', pid: 42, extended: true, serviceNames: ['a', 'b'], connectedAt: NOW, slots: 1, freeSlots: 1, served: 0, timedOut: 0, seenTick: 9, retiring: false, retireReason: 'retired', leaving: false, gone: false })
    expect(w.jobs.size).toBe(0)
    expect(Object.isFrozen(w.serviceNames)).toBe(true)
    expect(w.services).toEqual([t.services.get('a'), before])
    expect(w.services.map((s) => [s.workers, s.known])).toEqual([[1, true], [1, true]])
    // Not ready until the tables are told so.
    expect(before.ready.size).toBe(0)
    const plain = join(t, ['b'])
    expect(plain).toMatchObject({ pid: undefined, extended: false })
    expect(before.workers).toBe(2)
  })

  it('finds a worker by its hex id or by its pid', () => {
    const t = tables()
    const a = join(t, ['s'], 100)
    const b = join(t, ['s'], 200)
    expect(t.findWorker(200)).toBe(b)
    expect(t.findWorker(a.id)).toBe(a)
    expect(t.findWorker(b.id)).toBe(b)
    expect(t.findWorker(300)).toBeUndefined()
    expect(t.findWorker('ffff')).toBeUndefined()
  })

  it('takes a worker out of the pool and of its services once, marking the services left unused', () => {
    const t = tables()
    const w = join(t, ['solo', 'shared'])
    const other = join(t, ['shared'])
    t.ready(w)
    t.ready(other)
    expect(t.removeWorker(w)).toBe(true)
    expect(w.gone).toBe(true)
    expect(t.workers.has(w.key)).toBe(false)
    expect(t.services.get('shared')!.ready.has(w)).toBe(false)
    expect(t.services.get('shared')!.ready.has(other)).toBe(true)
    expect(t.services.get('shared')!.workers).toBe(1)
    expect(t.services.get('solo')!.workers).toBe(0)
    expect(t.removeWorker(w)).toBe(false)
    expect(t.services.get('shared')!.workers).toBe(1)
    t.forgetIdle(NOW)
    expect([...t.services.keys()]).toEqual(['shared'])
  })

  it('makes ready only a worker with a free slot that has not gone, in each of its services', () => {
    const t = tables()
    const w = join(t, ['a', 'b'])
    t.ready(w)
    expect(w.services.map((s) => s.ready.has(w))).toEqual([true, true])
    t.unready(w)
    expect(w.services.map((s) => s.ready.has(w))).toEqual([false, false])
    w.freeSlots = 0
    t.ready(w)
    expect(w.services.map((s) => s.ready.size)).toEqual([0, 0])
    w.freeSlots = 1
    w.gone = true
    t.ready(w)
    expect(w.services.map((s) => s.ready.size)).toEqual([0, 0])
  })

  it('takes a snapshot of a worker for events: idle or busy, retiring when it leaves', () => {
    const t = tables()
    const w = join(t, ['a', 'b'], 5)
    expect(info(w)).toEqual({
      id: w.id, pid: 5, services: ['a', 'b'], extended: true, state: 'idle', slots: 1, jobs: 0, served: 0, connectedAt: NOW, jobStartedAt: undefined, retiring: false
    })
    t.assign(w, request(t, w.services[0]!))
    expect(info(w)).toMatchObject({ state: 'busy', jobs: 1, jobStartedAt: NOW })
    expect(info({ ...w, leaving: true }).retiring).toBe(true)
    expect(info({ ...w, retiring: true }).retiring).toBe(true)
  })
})

describe('jobs', () => {
  it('numbers jobs in the order they came and gives each 8 random bytes of id, never the same twice', () => {
    const t = tables()
    const s = t.addService('s', true)
    const jobs = Array.from({ length: 2 * 2048 + 1 }, () => request(t, s))
    expect(jobs.slice(0, 3).map((j) => j.id)).toEqual([1, 2, 3])
    expect(jobs.every((j) => j.idFrame.length === 8)).toBe(true)
    expect(new Set(jobs.map((j) => j.idFrame.toString('hex'))).size).toBe(jobs.length)
    expect(jobs[0]).toMatchObject({ client: Buffer.from('c'), clientKey: 'c', envelope: REQ_ENVELOPE, service: s, body: [Buffer.from('x')], queuedAt: NOW, waiting: false, older: undefined, newer: undefined, worker: undefined, timer: undefined, requeued: false })
  })

  it('counts waiting jobs in all and per client, a job sent again first in its queue', () => {
    const t = tables()
    const s = t.addService('s', true)
    const [a1, a2, b1] = [request(t, s, 'a'), request(t, s, 'a'), request(t, s, 'b')]
    t.enqueue(a1, false)
    t.enqueue(b1, false)
    t.enqueue(a2, true)
    expect(ids(s.waiting)).toEqual([a2.id, a1.id, b1.id])
    expect([a1.waiting, a2.waiting, b1.waiting]).toEqual([true, true, true])
    expect(t.queued).toBe(3)
    expect([t.clientQueued('a'), t.clientQueued('b'), t.clientQueued('z')]).toEqual([2, 1, 0])
    t.unqueue(a2)
    expect(a2.waiting).toBe(false)
    expect(ids(s.waiting)).toEqual([a1.id, b1.id])
    // a's turn passed: b goes first now.
    expect(s.waiting.nextInTurn()).toBe(b1)
    t.unqueue(b1)
    expect(t.queued).toBe(1)
    expect([...t.queuedByClient]).toEqual([['a', 1]])
  })

  it('puts a job back in the table of its service when the service was forgotten meanwhile', () => {
    const t = tables()
    const s = t.addService('s', true)
    const job = request(t, s)
    t.services.delete('s')
    t.enqueue(job, true)
    expect(t.services.get('s')).toBe(s)
    const present = request(t, s)
    const replaced = t.addService('s', true)
    t.enqueue(present, false)
    expect(t.services.get('s')).toBe(replaced)
  })

  it('removes a waiting job for good without passing its client\'s turn, and marks the service left unused', () => {
    const t = tables()
    const s = t.addService('s', true)
    const [a1, a2, b1] = [request(t, s, 'a'), request(t, s, 'a'), request(t, s, 'b')]
    for (const j of [a1, b1, a2]) t.enqueue(j, false)
    t.removeQueued(a1)
    expect(s.waiting.nextInTurn()).toBe(a2)
    expect(t.clientQueued('a')).toBe(1)
    t.removeQueued(a2)
    t.removeQueued(b1)
    expect(t.queued).toBe(0)
    expect(t.queuedByClient.size).toBe(0)
    t.forgetIdle(NOW)
    expect(t.services.has('s')).toBe(false)
  })

  it('empties a queue, oldest first, and forgets the counts of its jobs', () => {
    const t = tables()
    const s = t.addService('s', true)
    const other = t.addService('other', true)
    const jobs = [request(t, s, 'a'), request(t, s, 'b'), request(t, s, 'a')]
    for (const j of jobs) t.enqueue(j, false)
    const kept = request(t, other, 'a')
    t.enqueue(kept, false)
    expect(t.drainQueue(s)).toEqual(jobs)
    expect(jobs.map((j) => j.waiting)).toEqual([false, false, false])
    expect(t.queued).toBe(1)
    expect([...t.queuedByClient]).toEqual([['a', 1]])
  })

  it('lists the jobs of one client over all services', () => {
    const t = tables()
    const [x, y] = [t.addService('x', true), t.addService('y', true)]
    const mine = [request(t, x, 'me'), request(t, y, 'me'), request(t, x, 'me')]
    t.enqueue(request(t, x, 'you'), false)
    for (const j of mine) t.enqueue(j, false)
    expect(ids(t.queuedOf('me'))).toEqual([mine[0]!.id, mine[2]!.id, mine[1]!.id])
    expect(t.queuedOf('nobody')).toEqual([])
  })

  it('lists the jobs accepted at or before a time, and when the oldest waiting job was accepted', () => {
    const t = tables()
    const [x, y] = [t.addService('x', true), t.addService('y', true)]
    expect(t.queuedSince(Infinity)).toEqual([])
    expect(t.oldestQueuedAt()).toBeUndefined()
    const stamped = (s: Service, at: number): Job => ({ ...request(t, s), queuedAt: at })
    const jobs = [stamped(x, 10), stamped(x, 20), stamped(y, 5), stamped(x, 30), stamped(y, 25)]
    for (const j of jobs) t.enqueue(j, false)
    expect(t.queuedSince(20).map((j) => j.queuedAt)).toEqual([10, 20, 5])
    expect(t.queuedSince(4)).toEqual([])
    expect(t.queuedSince(30).map((j) => j.queuedAt)).toEqual([10, 20, 30, 5, 25])
    expect(t.oldestQueuedAt()).toBe(5)
    // Per service, for the dashboard.
    expect([t.oldestQueuedAt('x'), t.oldestQueuedAt('y'), t.oldestQueuedAt('none')]).toEqual([10, 5, undefined])
    t.unqueue(jobs[2]!)
    expect(t.oldestQueuedAt()).toBe(10)
    expect(t.oldestQueuedAt('y')).toBe(25)
    t.addService('empty', true)
    expect(t.oldestQueuedAt()).toBe(10)
    expect(t.oldestQueuedAt('empty')).toBeUndefined()
  })
})

describe('jobs in flight', () => {
  it('records that a worker holds a job: one slot fewer, out of the ready set until it has a free one', () => {
    const t = tables()
    const w = join(t, ['s'])
    const s = w.services[0]!
    t.ready(w)
    const job = request(t, s)
    t.assign(w, job)
    expect(w).toMatchObject({ freeSlots: 0 })
    expect(w.jobs.get(jobKey(job.idFrame))).toBe(job)
    expect(job).toMatchObject({ worker: w, startedAt: NOW })
    expect(t.inFlight.get(job.id)).toBe(job)
    expect(s.inFlight).toBe(1)
    expect(s.ready.has(w)).toBe(false)
    // A worker with a slot left stays ready, behind the others of its bucket.
    const wide = join(t, ['s'])
    const peer = join(t, ['s'])
    t.setSlots(wide, 2)
    t.ready(peer)
    t.ready(wide)
    t.assign(wide, request(t, s))
    expect(wide.freeSlots).toBe(1)
    expect([...s.ready].map((r) => r.id)).toEqual([peer.id, wide.id])
  })

  it('ends a job once: its timer cleared, its worker forgotten, the service marked when it is left unused', () => {
    const t = tables()
    const w = join(t, ['s'])
    const s = w.services[0]!
    const job = request(t, s)
    t.assign(w, job)
    const fired = vi.fn()
    job.timer = setTimeout(fired, 1000)
    t.endJob(job)
    vi.advanceTimersByTime(2000)
    expect(fired).not.toHaveBeenCalled()
    // The worker's slot is the caller's to free (release): the job keeps its worker until then.
    expect(job).toMatchObject({ timer: undefined, worker: w })
    expect(t.inFlight.size).toBe(0)
    expect(s.inFlight).toBe(0)
    t.endJob(job)
    expect(s.inFlight).toBe(0)
    // The worker still holds the service: it stays.
    t.forgetIdle(Date.now())
    expect(t.services.get('s')).toBe(s)
    t.removeWorker(w)
    t.forgetIdle(Date.now())
    expect(t.services.has('s')).toBe(false)
  })

  it('frees the slot of a worker that answered, without making it ready', () => {
    const t = tables()
    const w = join(t, ['s'])
    const s = w.services[0]!
    const job = request(t, s)
    t.assign(w, job)
    t.release(w, job)
    expect(w).toMatchObject({ freeSlots: 1, timedOut: 0 })
    expect(w.jobs.size).toBe(0)
    expect(job.worker).toBeUndefined()
    expect(s.ready.has(w)).toBe(false)
    // Released twice, or a job it does not hold: no slot appears from nowhere.
    t.release(w, job)
    expect(w.freeSlots).toBe(1)
    t.ready(w)
    t.release(w, request(t, s))
    expect(s.ready.has(w)).toBe(false)
  })

  it('tells whether a job waits for one of a worker\'s services', () => {
    const t = tables()
    const w = join(t, ['a', 'b'])
    join(t, ['c'])
    expect(t.hasWorkFor(w)).toBe(false)
    t.enqueue(request(t, t.services.get('c')!), false)
    expect(t.hasWorkFor(w)).toBe(false)
    t.enqueue(request(t, t.services.get('b')!), false)
    expect(t.hasWorkFor(w)).toBe(true)
  })

  it('counts workers by state, services, and jobs waiting (by service) and in flight', () => {
    const t = tables()
    expect(t.gauges()).toEqual({ workers: 0, idleWorkers: 0, busyWorkers: 0, slots: 0, slotsInUse: 0, services: 0, queued: 0, queuedByService: {}, inFlight: 0 })
    const busy = join(t, ['a'])
    join(t, ['a', 'b'])
    join(t, ['b'])
    t.assign(busy, request(t, busy.services[0]!))
    t.enqueue(request(t, t.services.get('b')!), false)
    t.enqueue(request(t, t.services.get('b')!, 'other'), false)
    expect(t.gauges()).toEqual({ workers: 3, idleWorkers: 2, busyWorkers: 1, slots: 3, slotsInUse: 1, services: 2, queued: 2, queuedByService: { b: 2 }, inFlight: 1 })
  })
})

describe('the ready set', () => {
  interface Plain { id: string, pid: undefined, services: [], slots: number, freeSlots: number, served: number }
  const worker = (id: string, freeSlots: number): Plain => ({ id, pid: undefined, services: [], slots: 4, freeSlots, served: 0 })

  it('is empty to begin with and knows no worker', () => {
    const ready = new ReadySet<Plain>()
    expect(ready.size).toBe(0)
    expect(ready.first()).toBeUndefined()
    expect([...ready]).toEqual([])
    expect(ready.has(worker('a', 3))).toBe(false)
    expect(ready.delete(worker('a', 3))).toBe(false)
  })

  it('finds the top bucket again after a lower one was added, and iterates past empty buckets', () => {
    const ready = new ReadySet<Plain>()
    const [low, high, mid] = [worker('low', 1), worker('high', 4), worker('mid', 2)]
    ready.add(low)
    expect(ready.first()).toBe(low)
    ready.add(high)
    ready.add(mid)
    expect(ready.first()).toBe(high)
    expect([...ready].map((w) => w.id)).toEqual(['high', 'mid', 'low'])
    ready.delete(high)
    expect([...ready].map((w) => w.id)).toEqual(['mid', 'low'])
    expect(ready.first()).toBe(mid)
    ready.add(high)
    expect(ready.first()).toBe(high)
  })

  it('never offers a worker without a free slot', () => {
    const ready = new ReadySet<Plain>()
    ready.add(worker('full', 0))
    expect(ready.first()).toBeUndefined()
    expect([...ready]).toEqual([])
    ready.add(worker('one', 1))
    expect([...ready].map((w) => w.id)).toEqual(['one'])
    expect(ready.first()!.id).toBe('one')
  })
})

describe('several jobs per worker', () => {
  it('keys a job by the first 6 bytes of its 8-byte id, and finds it only by the whole id', () => {
    const id = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])
    expect(jobKey(id)).toBe(id.readUIntLE(0, 6))
    expect(jobKey(Buffer.from([1, 2, 3]))).toBe(-1)
    expect(jobKey(Buffer.alloc(9))).toBe(-1)
    const t = tables()
    const w = join(t, ['s'])
    t.setSlots(w, 2)
    const job = request(t, w.services[0]!)
    t.assign(w, job)
    expect(t.jobOf(w, Buffer.from(job.idFrame))).toBe(job)
    // Same first 6 bytes, another last byte: not that job.
    const near = Buffer.from(job.idFrame)
    near[7] = near[7]! ^ 0xff
    expect(t.jobOf(w, near)).toBeUndefined()
    expect(t.jobOf(w, Buffer.from('short'))).toBeUndefined()
  })

  it('counts free slots as slots minus jobs held, whatever the CREDIT says', () => {
    const t = tables()
    const w = join(t, ['s'])
    const s = w.services[0]!
    t.setSlots(w, 4)
    expect(w.freeSlots).toBe(4)
    const [a, b] = [request(t, s), request(t, s)]
    t.assign(w, a)
    t.assign(w, b)
    expect(w).toMatchObject({ slots: 4, freeSlots: 2 })
    expect(s.ready.has(w)).toBe(true)
    t.release(w, a)
    expect(w.freeSlots).toBe(3)
    // A lower credit than the jobs held leaves no free slot, and no negative count.
    t.setSlots(w, 0)
    expect(w.freeSlots).toBe(0)
    expect(s.ready.has(w)).toBe(false)
    t.setSlots(w, 1)
    expect(w.freeSlots).toBe(0)
    t.setSlots(w, 3)
    expect(w.freeSlots).toBe(2)
  })

  it('lets a timed-out job keep its slot until its worker answers it', () => {
    const t = tables()
    const w = join(t, ['s'])
    const s = w.services[0]!
    t.setSlots(w, 2)
    const [late, other] = [request(t, s), request(t, s)]
    t.assign(w, late)
    vi.advanceTimersByTime(5)
    t.assign(w, other)
    t.expire(late)
    expect(late.timedOut).toBe(true)
    expect(w).toMatchObject({ timedOut: 1, freeSlots: 0 })
    expect(t.inFlight.has(late.id)).toBe(false)
    expect(t.inFlight.has(other.id)).toBe(true)
    // The snapshot's start is the oldest job still running.
    expect(info(w)).toMatchObject({ jobs: 2, jobStartedAt: NOW + 5 })
    t.release(w, late)
    expect(w).toMatchObject({ timedOut: 0, freeSlots: 1 })
    expect(w.jobs.size).toBe(1)
  })

  it('takes every job off a worker that leaves and returns those still running, oldest first', () => {
    const t = tables()
    const w = join(t, ['s'])
    const s = w.services[0]!
    t.setSlots(w, 3)
    const jobs = [request(t, s), request(t, s), request(t, s)]
    for (const job of jobs) t.assign(w, job)
    t.expire(jobs[1]!)
    expect(t.releaseAll(w)).toEqual([jobs[0], jobs[2]])
    expect(w.jobs.size).toBe(0)
    expect(w).toMatchObject({ timedOut: 0, freeSlots: 3 })
    for (const job of jobs) expect(job.worker).toBeUndefined()
    expect(t.releaseAll(w)).toEqual([])
  })
})
