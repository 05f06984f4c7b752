import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientErrorCode, Status } from '@net-server/client'
import { statusOf, text, title } from '@net-server/test-support'
import { PYTHON, interopPeer } from '../support/clients.js'
import { fixture } from '../support/fixture.js'
import { client, lazyPirate, startServer, type ServerProcess } from '../support/server.js'

const hasPyzmq = interopPeer('pyzmq', PYTHON, ['-c', 'import zmq'], 'apt-get install python3-zmq')

// The seed's synopsis: the uppercase app, `--port 0,0 --min-servers 5`.
describe('the synopsis as a preforked server', () => {
  let server: ServerProcess
  let pids: number[]

  beforeAll(async () => {
    server = await startServer(['--min-servers', '5', '--min-spare-servers', '0'], { shared: true })
    pids = await server.settled(5)
  }, 60_000)
  afterAll(async () => { await server?.kill() })

  it('names its processes as the seed does', () => {
    const fport = /:(\d+)$/.exec(server.frontend)![1]
    const bport = /:(\d+)$/.exec(server.backend)![1]
    expect(title(server.pid)).toBe(`zmq broker ${fport}-${bport}`)
    for (const pid of pids) expect(title(pid)).toBe(`zmq worker ${bport}`)
  })

  it.skipIf(!hasPyzmq)('answers a pyzmq REQ client', async () => {
    const { stdout } = await promisify(execFile)(PYTHON, [fixture('req_client.py'), server.frontend, 'hello', 'python'], { timeout: 15_000 })
    expect(stdout.trim()).toBe('HELLO PYTHON')
  })

  it('answers the project Client and the LazyPirateClient, in both REQ and MDP dialects', async () => {
    expect(text(await client(server.frontend).request('', 'hello'))).toEqual(['HELLO'])
    expect(text(await client(server.frontend).request('default', ['a', 'b']))).toEqual(['A B'])
    expect(text(await lazyPirate(server.frontend).request('pirate'))).toEqual(['PIRATE'])
    expect(text(await lazyPirate(server.frontend, { service: 'default' }).request('mdp'))).toEqual(['MDP'])
  })

  it('gives 20 concurrent clients x 200 requests each its own reply', async () => {
    const clients = Array.from({ length: 20 }, () => client(server.frontend))
    const served = new Set<string>()
    await Promise.all(clients.map(async (c, i) => {
      for (let j = 0; j < 200; j++) {
        const [reply] = await c.request('', `c${i}-r${j}-payload`)
        expect(reply!.toString()).toBe(`C${i}-R${j}-PAYLOAD`)
        served.add(reply!.toString())
      }
    }))
    expect(served.size).toBe(4000)
    expect(server.events.filter((e) => e.event === 'childExit')).toEqual([])
  })

  it('answers 500 with the message when the app throws, and the worker keeps serving', async () => {
    const c = client(server.frontend)
    const before = server.events.length
    // Ten throws in a row: with least-recently-used dispatch, every worker throws twice.
    for (let i = 0; i < 10; i++) {
      const err = await c.request('', 'throw').then(() => undefined, (e: unknown) => e as { code: string, status: number, detail: string })
      expect(err).toMatchObject({ code: ClientErrorCode.APP_ERROR, status: Status.APP_ERROR, detail: 'the job threw' })
    }
    const answered = new Set<number>()
    for (let i = 0; i < 10; i++) answered.add(Number(text(await c.request('', 'pid'))[0]))
    expect([...answered].sort((a, b) => a - b)).toEqual(pids)
    expect(server.events.slice(before).filter((e) => e.event === 'childExit')).toEqual([])
    expect(await statusOf(lazyPirate(server.frontend).request('throw'))).toBe(Status.APP_ERROR)
  })
})
