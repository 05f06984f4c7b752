import { describe, expect, it } from 'vitest'
import { MDPC, Status } from '@net-server/client'
import { deadEndpoint, runZmqClient } from '@net-server/test-support'
import { startBroker } from '../support/fake-broker.js'

describe('zmq-client', () => {
  it('sends stdin (one trailing newline dropped) and prints the reply on stdout', async () => {
    const broker = await startBroker()
    const r = await runZmqClient(['-e', broker.endpoint], 'hello world\n')
    expect(r).toMatchObject({ code: 0, stdout: 'HELLO WORLD\n', stderr: '' })
    expect(broker.received[0]!.request).toMatchObject({ dialect: 'req' })
    expect(broker.received[0]!.request.body.map(String)).toEqual(['hello world'])
  })

  it('asks for a service over MDP/0.1 with -s and sets the routing id with -i', async () => {
    const broker = await startBroker()
    const r = await runZmqClient(['--endpoint', broker.endpoint, '--service', 'echo', '--identity', 'cli-1'], 'x')
    expect(r).toMatchObject({ code: 0, stdout: 'X\n' })
    const [received] = broker.received
    expect(received!.request).toMatchObject({ dialect: 'mdp', service: 'echo' })
    expect(received!.raw[1]!.toString()).toBe(MDPC)
    expect(received!.routingId.toString()).toBe('cli-1')
    const short = await runZmqClient(['-e', broker.endpoint, '-s', 'other', '-i', 'cli-2'], 'y')
    expect(short).toMatchObject({ code: 0, stdout: 'Y\n' })
    expect(broker.received[1]!.routingId.toString()).toBe('cli-2')
  })

  it('retries on stderr and still prints only the reply on stdout', async () => {
    const broker = await startBroker()
    broker.dropNext = 1
    const r = await runZmqClient(['-e', broker.endpoint, '-t', '0.3', '-r', '2'], 'again')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('AGAIN\n')
    expect(r.stderr).toBe('zmq-client: no reply within 0.3 s, retrying (1/2)\n')
    expect(broker.received).toHaveLength(2)
  })

  it('gives up with exit code 1 within timeout x (retries + 1)', async () => {
    const broker = await startBroker()
    broker.handler = () => undefined
    const r = await runZmqClient(['-e', broker.endpoint, '--timeout', '0.25', '--retries', '1'], 'lost')
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/retrying \(1\/1\)\n.*server seems to be offline, abandoning \(no reply after 2 attempts of 250 ms\)\n$/s)
    expect(broker.received).toHaveLength(2)
    // Process start-up included; the give-up itself takes 0.5 s.
    expect(r.elapsed).toBeLessThan(10_000)
  })

  it('gives up with exit code 1 when the server is down', async () => {
    const r = await runZmqClient(['-e', await deadEndpoint(), '-t', '0.1', '-r', '0'], 'anyone?')
    expect(r).toMatchObject({ code: 1, stdout: '' })
    expect(r.stderr).toBe('zmq-client: server seems to be offline, abandoning (no reply after 1 attempt of 100 ms)\n')
  })

  it('exits 1 with the message when the server replies with a failure status', async () => {
    const broker = await startBroker()
    broker.handler = () => ({ status: Status.APP_ERROR, body: [Buffer.from('cannot divide by zero')] })
    const r = await runZmqClient(['-e', broker.endpoint], '1/0')
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'zmq-client: job failed: cannot divide by zero\n' })
  })

  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['extra'], /too many arguments/],
    [['-t'], /argument missing/],
    [['-t', '0'], /--timeout must be a number of seconds > 0 \(got '0'\)/],
    [['-t', '-1'], /--timeout must be a number of seconds > 0/],
    [['-t', 'soon'], /--timeout must be a number of seconds > 0/],
    [['-r', '-1'], /--retries must be an integer >= 0 \(got '-1'\)/],
    [['-r', '1.5'], /--retries must be an integer >= 0/],
    [['-e', 'localhost:6660'], /--endpoint is not an endpoint this client can connect to: 'localhost:6660'/],
    [['-e', 'tcp://127.0.0.1:0'], /--endpoint has a TCP port outside 1-65535/],
    [['-i', ''], /--identity must be 1 to 255 bytes/],
    [['--lines', '--concurrency', '0'], /--concurrency must be an integer >= 1/],
    [['--concurrency', '4'], /--concurrency needs --lines/]
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const r = await runZmqClient(args, 'x')
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(message)
  })

  it('prints help and version on stdout with exit code 0', async () => {
    const [help, version] = await Promise.all([runZmqClient(['--help']), runZmqClient(['-V'])])
    expect(help.code).toBe(0)
    for (const flag of ['--endpoint', '--timeout', '--retries', '--identity', '--service', '--dialect', '--lines', '--concurrency']) {
      expect(help.stdout).toContain(flag)
    }
    expect(help.stdout).toContain('tcp://localhost:6660')
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' })
  })

  describe('batch mode', () => {
    it('sends each line as a job and prints the replies in input order', async () => {
      const broker = await startBroker()
      broker.hold = true
      const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`)
      const run = runZmqClient(['-e', broker.endpoint, '--lines', '--concurrency', '4', '-t', '10'], lines.join('\n') + '\n')
      // Answer newest first, each time the broker holds all the client may send.
      for (let answered = 0; answered < 20;) {
        const expected = Math.min(4, 20 - answered)
        await broker.until(() => broker.held.length >= expected)
        broker.held.reverse()
        answered += broker.held.length
        broker.release()
      }
      const r = await run
      expect(r).toMatchObject({ code: 0, stderr: '' })
      expect(r.stdout).toBe(lines.map((l) => l.toUpperCase() + '\n').join(''))
      expect(broker.maxHeld).toBe(4)
      expect(broker.received.map((x) => x.request.dialect)).toEqual(Array(20).fill('nsz'))
    })

    it('prints an empty line for a failed job, says why on stderr and exits 1', async () => {
      const broker = await startBroker()
      broker.handler = (r) => r.request.body[0]!.toString() === 'bad'
        ? { status: Status.APP_ERROR, body: [Buffer.from('no good')] }
        : { status: Status.OK, body: [Buffer.from(r.request.body[0]!.toString().toUpperCase())] }
      const r = await runZmqClient(['-e', broker.endpoint, '--lines', '-s', 'svc'], 'a\r\nbad\nc')
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('A\n\nC\n')
      expect(r.stderr).toBe('zmq-client: line 2: job failed: no good\n')
      expect(broker.received.map((x) => x.request.service)).toEqual(['svc', 'svc', 'svc'])
    })

    it('gives up on each line with exit code 1 when the server does not answer', async () => {
      const broker = await startBroker()
      broker.handler = () => undefined
      const r = await runZmqClient(['-e', broker.endpoint, '--lines', '-t', '0.2', '-r', '0'], 'a\nb\n')
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('\n\n')
      expect(r.stderr).toMatch(/line 1: server seems to be offline.*\n.*line 2: server seems to be offline/s)
    })

    it('does nothing on empty input', async () => {
      const broker = await startBroker()
      const r = await runZmqClient(['-e', broker.endpoint, '--lines'], '')
      expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' })
      expect(broker.received).toHaveLength(0)
    })
  })
})
