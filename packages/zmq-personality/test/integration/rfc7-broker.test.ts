import { describe, expect, it, onTestFinished } from 'vitest'
import { MDPC, NSZ_WORKER_EXTENSION } from '@net-server/client'
import { failOnRejection, runZmqClient, text } from '@net-server/test-support'
import { WorkerAgent } from '@net-server/zmq'
import { dealer, reqClient } from '../support/broker.js'
import { nsz } from '../support/cli.js'
import { fixture } from '../support/fixture.js'
import { StrictMdpBroker } from '../support/strict-mdp-broker.js'

// A broker of RFC 7 written here, which fails the test on any frame RFC 7 does not
// allow, and never acknowledges the project's extension: the project's worker and
// client must speak plain MDP/0.1 to it.

const HEARTBEAT = { heartbeatInterval: 100, heartbeatLiveness: 3 } as const

describe('a strict RFC 7 broker', () => {
  it('is served by a WorkerAgent that announces the extension but never uses it unacknowledged', async () => {
    const broker = await StrictMdpBroker.start(HEARTBEAT.heartbeatInterval)
    const agent = new WorkerAgent({ ...HEARTBEAT, endpoint: broker.backendEndpoint, services: ['echo', 'more'] })
    onTestFinished(() => agent.close({ graceful: false }))
    let started!: () => void
    const hanging = new Promise<void>((resolve) => { started = resolve })
    failOnRejection(agent.serve((job) => {
      const input = job.body.map(String)
      if (input[0] === 'fail') throw new Error('the job failed on purpose')
      if (input[0] === 'hang') { started(); return new Promise(() => {}) }
      expect(job.service).toBe('echo')
      return input.map((s) => s.toUpperCase())
    }), 'the worker agent')
    await broker.until(() => broker.workers === 1, 'READY')
    expect(broker.readies).toEqual([{ service: 'echo', extra: [NSZ_WORKER_EXTENSION, String(process.pid), 'more'] }])

    const client = reqClient(broker.frontendEndpoint)
    await client.send([MDPC, 'echo', 'abc', 'def'])
    expect(text(await client.receive())).toEqual([MDPC, 'echo', 'ABC', 'DEF'])
    await client.send([MDPC, 'echo', 'fail'])
    expect(text(await client.receive())).toEqual([MDPC, 'echo', 'ERROR 500 the job failed on purpose'])
    expect(agent.acknowledged).toBe(false)

    // Heartbeats keep the worker on the one connection.
    const seen = broker.heartbeats
    await broker.until(() => broker.heartbeats >= seen + 5, 'five more heartbeats')
    expect(broker.readies).toHaveLength(1)

    // A fast stop with a job running: RFC 7 has no 502 to abandon it, only DISCONNECT.
    await client.send([MDPC, 'echo', 'hang'])
    await hanging
    await agent.close({ graceful: false })
    await broker.until(() => broker.workers === 0, 'DISCONNECT')
    expect(broker.replies).toEqual([['ABC', 'DEF'], ['ERROR 500 the job failed on purpose']])
  })

  it('is served by nsz worker and by nsz worker --mdp, for single and batch zmq-client -s requests', async () => {
    const broker = await StrictMdpBroker.start(HEARTBEAT.heartbeatInterval)
    const common = ['--connect', broker.backendEndpoint, '--heartbeat-interval', '0.1', '--min-servers', '1', '--max-servers', '1', '--min-spare-servers', '0', '--log-level', '1']
    nsz(['worker', ...common, fixture('rfc7-app.js')])
    await broker.until(() => broker.workers === 1, 'READY of nsz worker')
    nsz(['worker', '--mdp', ...common, fixture('rfc7-app.js')])
    await broker.until(() => broker.workers === 2, 'READY of nsz worker --mdp')
    expect(broker.readies.map((r) => r.extra[0] ?? 'none')).toEqual([NSZ_WORKER_EXTENSION, 'none'])
    expect(broker.readies[1]).toEqual({ service: 'default', extra: [] })

    const client = ['-e', broker.frontendEndpoint, '-s', 'default', '-t', '10']
    const single = await runZmqClient(client, 'hello\n')
    expect(single).toMatchObject({ code: 0, stdout: 'HELLO\n', stderr: '' })
    const failed = await runZmqClient(client, 'fail')
    expect(failed).toMatchObject({ code: 1, stdout: '', stderr: 'zmq-client: job failed: the job failed on purpose\n' })

    const lines = Array.from({ length: 30 }, (_, i) => (i % 10 === 4 ? 'fail' : `line ${i}`))
    const batch = await runZmqClient([...client, '--lines', '--concurrency', '4'], lines.join('\n') + '\n')
    expect(batch.code).toBe(1)
    expect(batch.stdout).toBe(lines.map((l) => (l === 'fail' ? '\n' : `${l.toUpperCase()}\n`)).join(''))
    expect(batch.stderr).toBe([5, 15, 25].map((n) => `zmq-client: line ${n}: job failed: the job failed on purpose\n`).join(''))
    // Both workers took jobs, in plain RFC 7 framing alike (or the broker would have failed the test).
    expect(broker.replies.length).toBe(32)
    expect([...broker.served.values()]).toEqual([expect.any(Number), expect.any(Number)])
  })

  it('catches a REPLY that is not RFC 7\'s, as the project\'s worker used to send it', async () => {
    const broker = await StrictMdpBroker.start(HEARTBEAT.heartbeatInterval)
    const worker = dealer(broker.backendEndpoint)
    await worker.send(['', 'MDPW01', '\x01', 'echo'])
    await broker.until(() => broker.workers === 1, 'READY')
    const client = reqClient(broker.frontendEndpoint)
    await client.send([MDPC, 'echo', 'x'])
    let request: Buffer[]
    do request = await worker.receive()
    while (request[2]![0] !== 0x02)
    await worker.send(['', 'MDPW01', '\x03', request[3]!, '200', 'X'])
    await broker.until(() => broker.violations.length === 1, 'the violation')
    expect(broker.violations[0]).toMatch(/^worker: REPLY frame 5 must be empty/)
    broker.violations.splice(0)
  })
})
