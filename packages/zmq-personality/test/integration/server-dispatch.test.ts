import { describe, expect, it } from 'vitest'
import { text } from '@net-server/test-support'
import { client, startServer } from '../support/server.js'

/** The pids that answer `n` requests sent one after another, each while every worker is idle. */
async function answeringPids (frontend: string, n: number): Promise<number[]> {
  const c = client(frontend)
  const pids: number[] = []
  for (let i = 0; i < n; i++) pids.push(Number(text(await c.request('', 'pid'))[0]))
  return pids
}

describe('the dispatch policy of a ZmqServer', () => {
  it('comes from the DISPATCH_POLICY token registered in the container', async () => {
    const server = await startServer(['--min-servers', '3'], { kind: 'dispatch-token' })
    const pids = await server.serving(3)
    // Least recently used would take the three in turn; this policy takes the highest pid.
    expect(await answeringPids(server.frontend, 6)).toEqual(Array(6).fill(Math.max(...pids)))
  })

  it('comes from the dispatchPolicy option, which wins over the token', async () => {
    const server = await startServer(['--min-servers', '3'], { kind: 'dispatch-both' })
    const pids = await server.serving(3)
    expect(await answeringPids(server.frontend, 6)).toEqual(Array(6).fill(Math.min(...pids)))
  })
})
