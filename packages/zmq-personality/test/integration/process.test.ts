import { describe, expect, it } from 'vitest'
import { Status } from '@net-server/client'
import { nextEvent, text, within } from '@net-server/test-support'
import { NszClient, startBroker } from '../support/broker.js'
import { spawnWorker } from '../support/clients.js'

describe('worker processes', () => {
  it('answers 502 when a worker process is killed mid-job', async () => {
    const { broker, frontend, backend } = await startBroker()
    const child = await spawnWorker(broker, backend)
    const client = new NszClient(frontend)
    const busy = nextEvent(broker, 'workerBusy')
    const reply = client.call('default', 'hang')
    await busy
    const gone = nextEvent(broker, 'workerGone')
    child.signal('SIGKILL')
    expect((await reply).status).toBe(Status.WORKER_LOST)
    const [worker, reason] = await gone
    expect(worker.pid).toBe(child.pid)
    expect(reason).toBe('unreachable')
  })

  it('requeues the job of a killed worker to another one when asked', async () => {
    const { broker, frontend, backend } = await startBroker({ requeue: true })
    const first = await spawnWorker(broker, backend)
    const second = await spawnWorker(broker, backend)
    const client = new NszClient(frontend)
    // The least recently used worker, the first, takes the job and hangs on it.
    const busy = nextEvent(broker, 'workerBusy')
    const reply = client.call('default', ['hang-in', String(first.pid)])
    expect((await busy)[0].pid).toBe(first.pid)
    first.signal('SIGKILL')
    const answer = await reply
    expect(answer.status).toBe(200)
    expect(text(answer.body)).toEqual([String(second.pid), 'hang-in', String(first.pid)])
    expect(broker.stats().requeued).toBe(1)
  })

  it('does not expire a worker whose event loop is blocked by a job shorter than jobTimeout', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 10_000 })
    const child = await spawnWorker(broker, backend)
    const client = new NszClient(frontend)
    const reply = await client.call('default', ['spin', '800'])
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual([String(child.pid), 'spin', '800'])
    expect(broker.workers().map((w) => w.pid)).toEqual([child.pid])
  })

  it('answers 504 past jobTimeout and names the pid to replace', async () => {
    const { broker, frontend, backend } = await startBroker({ jobTimeout: 300 })
    const child = await spawnWorker(broker, backend)
    const client = new NszClient(frontend)
    const timedOut = nextEvent(broker, 'jobTimeout')
    const reply = client.call('default', ['spin', '3000'])
    const [worker] = await timedOut
    expect(worker.pid).toBe(child.pid)
    expect((await reply).status).toBe(Status.TIMEOUT)
    // What a server does on jobTimeout: kill and replace the process.
    const exited = child.exit
    process.kill(worker.pid, 'SIGKILL')
    await within(exited, 5000, 'the worker to exit')
    await spawnWorker(broker, backend)
    expect((await client.call('default', 'again')).status).toBe(200)
  })
})
