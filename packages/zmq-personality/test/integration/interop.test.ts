import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { MDPC, encodeMdpRequest } from '@net-server/client'
import type { WorkerInfo } from '@net-server/zmq'
import { deferred, eventually, nextEvent, startProcess, text } from '@net-server/test-support'
import { NszClient, dealer, startAgent, startBroker } from '../support/broker.js'
import { PYTHON } from '../support/clients.js'
import { fixture } from '../support/fixture.js'

const hasPyzmq = spawnSync(PYTHON, ['-c', 'import zmq']).status === 0
const required = process.env.NSZ_REQUIRE_INTEROP === '1'
if (!hasPyzmq && !required) {
  console.warn(`interop tests skipped: ${PYTHON} cannot import zmq (apt-get install python3-zmq; NSZ_REQUIRE_INTEROP=1 makes this a failure)`)
}

describe.skipIf(!hasPyzmq && !required)('interoperability with pyzmq', () => {
  it('finds pyzmq under Debian python', () => {
    expect(hasPyzmq, `${PYTHON} -c "import zmq" failed: install python3-zmq`).toBe(true)
  })

  it('lets an independent Python MDP/0.1 worker join and serve a service', async () => {
    const { broker, frontend, backend } = await startBroker()
    const child = startProcess(PYTHON, [fixture('mdp_worker.py'), backend, 'py.upper'])
    const exited = child.exit
    const [worker] = await nextEvent(broker, 'workerReady', 10_000) as [WorkerInfo]
    expect(worker).toMatchObject({ extended: false, pid: undefined, services: ['py.upper'] })
    const reply = await new NszClient(frontend).call('py.upper', ['abc', 'def'])
    expect(reply.status).toBe(200)
    expect(text(reply.body)).toEqual(['ABC', 'DEF', 'from python'])
    const mdp = dealer(frontend)
    await mdp.send(encodeMdpRequest('py.upper', 'x'))
    expect(text(await mdp.receive())).toEqual(['', MDPC, 'py.upper', 'X', 'from python'])
    // On close the broker sends DISCONNECT, which the Python worker obeys.
    await broker.close()
    await exited
  })

  it('serves a service with a Python MDP/0.1 worker of one slot beside a worker of ours with 8', async () => {
    const { broker, frontend, backend } = await startBroker()
    const child = startProcess(PYTHON, [fixture('mdp_worker.py'), backend, 'mixed'])
    await nextEvent(broker, 'workerReady', 10_000)
    // Every job handed out: the worker it went to never holds more than its slots.
    const handedOut: WorkerInfo[] = []
    broker.on('workerBusy', (worker) => { handedOut.push(worker) })
    let running = 0
    let peak = 0
    const release = deferred()
    await startAgent(broker, backend, async (job) => {
      peak = Math.max(peak, ++running)
      await release.promise
      running--
      return ['ours', ...job.body]
    }, { services: ['mixed'], concurrency: 8 })
    await eventually(() => broker.workers().some((w) => w.extended && w.slots === 8), 'our worker\'s 8 slots', 5000)
    const client = new NszClient(frontend)
    const replies = Array.from({ length: 40 }, async (_, i) => text((await client.call('mixed', `job ${i}`)).body))
    // Our 8 slots fill and stay full while the Python worker serves the rest, one at a time.
    await eventually(() => running === 8, 'our worker to run 8 jobs', 10_000)
    release.resolve()
    const answers = await Promise.all(replies)
    expect(answers.filter((a) => a[0] === 'ours').length).toBeGreaterThanOrEqual(8)
    expect(answers.filter((a) => a.at(-1) === 'from python').length).toBeGreaterThan(0)
    expect(peak).toBe(8)
    const python = handedOut.filter((w) => !w.extended)
    expect(python.length).toBeGreaterThan(0)
    for (const w of handedOut) expect(w.jobs, `jobs of worker ${w.id} when one was handed out`).toBeLessThanOrEqual(w.slots)
    expect(python.every((w) => w.slots === 1)).toBe(true)
    await broker.close()
    await child.exit
  })

  it('answers a pyzmq REQ client', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => job.body.map((f) => f.toString().toUpperCase()))
    const { stdout } = await promisify(execFile)(PYTHON, [fixture('req_client.py'), frontend, 'hello', 'python'], { timeout: 10_000 })
    expect(stdout.trim()).toBe('HELLO|PYTHON')
  })
})
