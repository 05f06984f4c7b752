import { describe, expect, it } from 'vitest'
import { runZmqClient } from '@net-server/test-support'
import { startBroker } from '../support/fake-broker.js'

const EMPTY = Buffer.alloc(0)

describe('zmq-client dialects', () => {
  it('speaks MDP/0.1 with -s in batch mode, one REQ socket per request in flight', async () => {
    const broker = await startBroker()
    broker.hold = true
    const lines = ['a', 'b', 'c', 'd', 'e', 'f']
    const run = runZmqClient(['-e', broker.endpoint, '--lines', '-s', 'svc', '--concurrency', '3'], lines.join('\n'))
    await broker.until(() => broker.held.length === 3)
    // MDP/0.1 carries no request id: three in flight need three sockets.
    expect(new Set(broker.held.map((r) => r.routingId.toString('hex'))).size).toBe(3)
    broker.release()
    await broker.until(() => broker.received.length === 6)
    broker.hold = false
    broker.release()
    const r = await run
    expect(r).toMatchObject({ code: 0, stdout: 'A\nB\nC\nD\nE\nF\n', stderr: '' })
    expect(broker.maxHeld).toBe(3)
    expect(broker.received.map((x) => x.request)).toEqual(lines.map(() => expect.objectContaining({ dialect: 'mdp', service: 'svc' })))
    // The sockets are reused, not one per line.
    expect(new Set(broker.received.map((x) => x.routingId.toString('hex'))).size).toBe(3)
  })

  it.each([
    [[], 'req'],
    [['-s', 'svc'], 'mdp'],
    [['--dialect', 'nsz'], 'nsz'],
    [['--dialect', 'nsz', '-s', 'svc'], 'nsz'],
    [['--lines'], 'nsz'],
    [['--lines', '--dialect', 'req'], 'req'],
    [['--lines', '--dialect', 'mdp', '-s', 'svc'], 'mdp']
  ])('with %j sends the %s dialect', async (args, dialect) => {
    const broker = await startBroker()
    const r = await runZmqClient(['-e', broker.endpoint, ...args], 'x\n')
    expect(r).toMatchObject({ code: 0, stdout: 'X\n', stderr: '' })
    expect(broker.received.map((x) => x.request.dialect)).toEqual([dialect])
  })

  it.each([
    [['--dialect', 'zmtp'], /--dialect must be one of req, mdp, nsz \(got 'zmtp'\)/],
    [['--dialect', 'req', '-s', 'svc'], /--dialect req carries no service/],
    [['--dialect', 'mdp'], /--dialect mdp needs a service \(-s\)/],
    [['--lines', '-s', 'svc', '-i', 'me'], /--identity in batch mode needs --concurrency 1 in the mdp dialect/]
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const r = await runZmqClient(args, 'x')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  it('takes --identity in batch mode with one socket', async () => {
    const broker = await startBroker()
    const r = await runZmqClient(['-e', broker.endpoint, '--lines', '-s', 'svc', '-i', 'me', '--concurrency', '1'], 'a\nb\n')
    expect(r).toMatchObject({ code: 0, stdout: 'A\nB\n' })
    expect(broker.received.map((x) => x.routingId.toString())).toEqual(['me', 'me'])
  })

  it('says which dialect the server answered in, instead of calling it offline', async () => {
    const broker = await startBroker()
    broker.handler = () => undefined
    // A broker that answers every request as plain REQ, whatever was sent.
    // sendRaw never rejects: a failed send fails the test when it ends.
    broker.on('request', (req) => { broker.sendRaw(req.routingId, [EMPTY, Buffer.from('plain')]) })
    const mdp = await runZmqClient(['-e', broker.endpoint, '-s', 'svc', '-t', '2', '-r', '0'], 'x')
    expect(mdp).toMatchObject({ code: 1, stdout: '' })
    expect(mdp.stderr).toBe('zmq-client: bad reply: the server answered in the req dialect, not MDP/0.1 (MDPC01)\n')
    const nsz = await runZmqClient(['-e', broker.endpoint, '--lines', '-t', '0.3', '-r', '0'], 'x\n')
    expect(nsz).toMatchObject({ code: 1, stdout: '\n' })
    expect(nsz.stderr).toMatch(/^zmq-client: line 1: the server answered in a dialect other than NSZC01 \(1 reply not read\): try --dialect mdp with -s, or --dialect req/)
    expect(nsz.stderr).not.toMatch(/offline/)
  })
})
