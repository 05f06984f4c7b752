import { describe, expect, it, onTestFinished } from 'vitest'
import { Router } from 'zeromq'
import { ServerProcess } from '../support/server.js'

interface Case {
  readonly name: string
  readonly kind?: string
  readonly args: readonly string[]
  readonly message: RegExp
}

const CASES: readonly Case[] = [
  { name: 'three ports', args: ['--port', '1,2,3'], message: /options\.port must be \[frontend port, backend port\]/ },
  { name: 'a port out of range', args: ['--port', '70000,1'], message: /options\.port must hold two ports from 0 to 65535/ },
  { name: 'the same port twice', args: ['--port', '7000,7000'], message: /options\.port: the frontend and backend ports must differ/ },
  { name: 'min above max servers', args: ['--min-servers', '5', '--max-servers', '2'], message: /options\.minServers \(5\) must not exceed options\.maxServers \(2\)/ },
  { name: 'a heartbeat too short', args: ['--heartbeat-interval', '0.001'], message: /options\.heartbeatInterval/ },
  { name: 'no liveness', args: ['--heartbeat-liveness', '0'], message: /options\.heartbeatLiveness/ },
  { name: 'a job timeout that is no number', args: ['--job-timeout', 'soon'], message: /options\.jobTimeout must be a number/ },
  { name: 'a negative queue bound', args: ['--max-queue', '-1'], message: /options\.maxQueue/ },
  { name: 'a zero message size', args: ['--max-message-size', '0'], message: /options\.maxMessageSize/ },
  { name: 'a frontend that is no endpoint', args: ['--frontend', 'localhost:6660'], message: /options\.frontend must be a ZeroMQ endpoint/ },
  { name: 'an app from the command line', args: ['--app', 'echo'], message: /--app can only be set from code/ },
  { name: 'an unknown option', args: ['--max-workers', '3'], message: /maxWorkers/ },
  { name: 'a default service the app does not serve', kind: 'services', args: ['--service', 'lower'], message: /options\.service \('lower'\) must name one of the app's services \(upper, reverse\)/ },
  { name: 'a pool without a broker to connect to', kind: 'pool', args: [], message: /options\.connect must be the broker's backend endpoint.*\(it is required\)/ }
]

/** Runs the fixture to its end and returns what it said; killed if the test ends first. */
async function runToExit (kind: string, args: readonly string[]): Promise<{ code: number | null, stderr: string, spawned: number }> {
  const server = new ServerProcess('server-app.ts', [kind, '--log-level', '1', ...args])
  const { code } = await server.exit
  return { code, stderr: server.stderr, spawned: server.seen.size }
}

describe('bad input at the server level', () => {
  it('fails with a clear message, a non-zero exit code and no child, for each bad option', async () => {
    const results = await Promise.all(CASES.map(async (c) => ({ c, r: await runToExit(c.kind ?? 'upper', c.args) })))
    for (const { c, r } of results) {
      expect(r.code, `${c.name}: exit code (stderr: ${r.stderr})`).not.toBe(0)
      expect(r.stderr, c.name).toMatch(c.message)
      expect(r.spawned, `${c.name}: children spawned`).toBe(0)
    }
  })

  it('fails with NSZ_ERR_BROKER_BIND when its port is taken', async () => {
    const taken = new Router({ linger: 0 })
    onTestFinished(() => { taken.close() })
    await taken.bind('tcp://127.0.0.1:*')
    const port = /:(\d+)$/.exec(taken.lastEndpoint!)![1]!
    const r = await runToExit('upper', ['--port', `${port},0`, '--min-servers', '2'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(new RegExp(`cannot bind the broker frontend to tcp://127\\.0\\.0\\.1:${port}`))
    expect(r.stderr).toMatch(/NSZ_ERR_BROKER_BIND/)
    expect(r.spawned).toBe(0)
  })
})
