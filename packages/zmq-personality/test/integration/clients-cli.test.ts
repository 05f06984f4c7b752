import { describe, expect, it } from 'vitest'
import { Broker, type Job } from '@net-server/zmq'
import { deferred, runZmqClient } from '@net-server/test-support'
import { FAST, startAgent, startBroker } from '../support/broker.js'

const upper = (job: Job): string[] => job.body.map((f) => f.toString().toUpperCase())

describe('zmq-client as a process against the broker', () => {
  it('prints the reply and exits 0 in single mode, plain REQ and MDP/0.1', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job) => [job.service, ...upper(job)], { services: ['default', 'shout'] })
    const plain = await runZmqClient(['-e', frontend], 'hello world\n')
    expect(plain).toMatchObject({ code: 0, stdout: 'default\nHELLO WORLD\n', stderr: '' })
    const mdp = await runZmqClient(['-e', frontend, '-s', 'shout', '-t', '5'], 'hey')
    expect(mdp).toMatchObject({ code: 0, stdout: 'shout\nHEY\n', stderr: '' })
    expect(broker.stats()).toMatchObject({ accepted: 2, served: 2 })
  })

  it('prints the replies of --lines --concurrency 4 in input order, whatever order they come in', async () => {
    const { broker, frontend, backend } = await startBroker()
    // Four workers hold their jobs until four are held, then answer them last first.
    let held: { job: Job, answer: () => void }[] = []
    let most = 0
    const answered: string[] = []
    const handler = async (job: Job): Promise<string[]> => {
      const turn = deferred()
      held.push({ job, answer: turn.resolve })
      most = Math.max(most, held.length)
      if (held.length === 4) {
        // This job answers first, then the three it held, from the last to the first.
        const batch = held.reverse()
        held = []
        for (const h of batch.slice(1)) h.answer()
      } else {
        await turn.promise
      }
      answered.push(job.body[0]!.toString())
      return upper(job)
    }
    for (let i = 0; i < 4; i++) await startAgent(broker, backend, handler)
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`)
    const r = await runZmqClient(['-e', frontend, '--lines', '--concurrency', '4', '-t', '10'], lines.join('\n') + '\n')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(lines.map((l) => l.toUpperCase() + '\n').join(''))
    // The replies did come out of order, and never more than four were in flight.
    expect(answered.slice(0, 4)).toEqual(['line 4', 'line 3', 'line 2', 'line 1'])
    expect(most).toBe(4)
  })

  it('exits 1 on failure statuses, with the reason on stderr', async () => {
    const { broker, frontend, backend } = await startBroker({ serviceGrace: 0 })
    await startAgent(broker, backend, (job) => {
      const text = job.body[0]!.toString()
      if (text.startsWith('fail')) throw new Error(`cannot do ${text}`)
      return upper(job)
    })
    const single = await runZmqClient(['-e', frontend, '-t', '5'], 'fail now')
    expect(single).toMatchObject({ code: 1, stdout: '', stderr: 'zmq-client: job failed: cannot do fail now\n' })
    const unknown = await runZmqClient(['-e', frontend, '-s', 'no.such.service', '-t', '5'], 'x')
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'zmq-client: no such service\n' })
    // In batch mode a failed line prints as an empty line, so that the output stays aligned.
    const batch = await runZmqClient(['-e', frontend, '--lines', '-t', '5'], 'a\nfail b\nc\n')
    expect(batch).toMatchObject({ code: 1, stdout: 'A\n\nC\n', stderr: 'zmq-client: line 2: job failed: cannot do fail b\n' })
  })

  it('exits 1 within its timeout budget when the server is down', async () => {
    const broker = new Broker(FAST)
    const { frontend } = await broker.bind()
    await broker.close()
    // What starting the command costs on this machine, measured, not guessed.
    const baseline = await runZmqClient(['--version'])
    expect(baseline.code).toBe(0)
    const r = await runZmqClient(['-e', frontend, '-t', '0.4', '-r', '1'], 'anyone?')
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'zmq-client: no reply within 0.4 s, retrying (1/1)\n' +
      'zmq-client: server seems to be offline, abandoning (no reply after 2 attempts of 400 ms)\n'
    )
    expect(r.elapsed).toBeGreaterThanOrEqual(800)
    expect(r.elapsed).toBeLessThan(baseline.elapsed + 800 + 1500)
  })
})
