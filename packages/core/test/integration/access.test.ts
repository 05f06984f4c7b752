import { once } from 'node:events'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { LineServer, start } from '../support/line-server.js'
import { RecordingServer } from '../support/recording-server.js'

const servers: LineServer[] = []
afterEach(async () => { await Promise.all(servers.splice(0).map(async (s) => await s.close())) })

/** Sends one line from `from` (a loopback address) and returns the whole reply. */
async function requestFrom (endpoint: string, from: string, line: string): Promise<string> {
  const socket = net.connect({ port: Number(new URL(endpoint).port), host: '127.0.0.1', localAddress: from })
  await once(socket, 'connect')
  socket.write(`${line}\n`)
  let reply = ''
  for await (const chunk of socket) reply += String(chunk)
  return reply
}

describe('access rules on real connections', () => {
  it.each([
    [{ cidrAllow: ['127.0.0.2/32'] }, { '127.0.0.1': 'denied\n', '127.0.0.2': 'echo: hi\n' }],
    [{ allow: ['127\\.0\\.0\\.1'] }, { '127.0.0.1': 'echo: hi\n', '127.0.0.2': 'denied\n' }],
    [{ deny: ['127\\.0\\.0\\.2'] }, { '127.0.0.1': 'echo: hi\n', '127.0.0.2': 'denied\n' }],
    [{ cidrAllow: ['127.0.0.0/8'], cidrDeny: ['127.0.0.2'] }, { '127.0.0.1': 'echo: hi\n', '127.0.0.2': 'denied\n' }]
  ])('%j', async (rules, expected) => {
    const server = new RecordingServer({ argv: false, handleSignals: false, logLevel: 0, ...rules })
    servers.push(server)
    const { endpoints } = await start(server)
    for (const [from, reply] of Object.entries(expected)) {
      const done = server.reached('postClientConnectionHook')
      expect(await requestFrom(endpoints[0]!, from, 'hi')).toBe(reply)
      await done
    }
  })
})
