import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { MDPC, encodeMdpRequest } from '@net-server/client'
import type { WorkerInfo } from '@net-server/zmq'
import { nextEvent, startProcess, text } from '@net-server/test-support'
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

  it('answers a pyzmq REQ client', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => job.body.map((f) => f.toString().toUpperCase()))
    const { stdout } = await promisify(execFile)(PYTHON, [fixture('req_client.py'), frontend, 'hello', 'python'], { timeout: 10_000 })
    expect(stdout.trim()).toBe('HELLO|PYTHON')
  })
})
