import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import type { Job } from '@net-server/zmq'
import { run } from '@net-server/test-support'
import { startAgent, startBroker } from '../support/broker.js'
import { PYTHON, interopPeer } from '../support/clients.js'
import { fixture } from '../support/fixture.js'

// interop.test.ts covers a Python MDP/0.1 worker and one pyzmq REQ round trip; these
// cover an MDP/0.1 client written in Python and the failures a pyzmq REQ client sees.
const available = interopPeer('pyzmq', PYTHON, ['-c', 'import zmq'], 'apt-get install python3-zmq')

const serve = (job: Job): string[] => {
  const text = job.body.map((f) => f.toString())
  if (text[0] === 'fail') throw new Error('the job failed on purpose')
  return [job.service, ...text.map((t) => t.toUpperCase())]
}

describe.skipIf(!available)('pyzmq clients against the broker', () => {
  it('finds pyzmq under Debian python', () => {
    expect(spawnSync(PYTHON, ['-c', 'import zmq']).status, `${PYTHON} -c "import zmq" failed: install python3-zmq`).toBe(0)
  })

  it('serves a pyzmq MDP/0.1 client: services, MMI and failures', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, serve, { services: ['py.upper', 'py.other'] })
    const requests = [
      ['py.upper', 'abc', 'def'],
      ['py.other', 'x'],
      ['mmi.service', 'py.upper'],
      ['mmi.service', 'py.none'],
      ['mmi.unknown'],
      ['py.upper', 'fail']
    ]
    const r = await run(PYTHON, [fixture('mdp_client.py'), frontend], JSON.stringify(requests))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual([
      ['py.upper', 'ABC', 'DEF'],
      ['py.other', 'X'],
      ['200'],
      ['404'],
      ['501'],
      ['ERROR 500 the job failed on purpose']
    ])
  })

  it('gives a pyzmq REQ client one ERROR frame for each failure', async () => {
    const { broker, frontend, backend } = await startBroker({ maxMessageSize: 8 })
    await startAgent(broker, backend, serve)
    const failed = await run(PYTHON, [fixture('req_client.py'), frontend, 'fail'])
    expect(failed).toMatchObject({ code: 0, stdout: 'ERROR 500 the job failed on purpose\n' })
    const large = await run(PYTHON, [fixture('req_client.py'), frontend, '123456789'])
    expect(large).toMatchObject({ code: 0, stdout: 'ERROR 413 request too large\n' })
    const ok = await run(PYTHON, [fixture('req_client.py'), frontend, 'a', 'b'])
    expect(ok).toMatchObject({ code: 0, stdout: 'default|A|B\n' })
  })
})
