import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir, text } from '@net-server/test-support'
import { client, startServer } from '../support/server.js'

describe('the container', () => {
  it('makes every socket of the broker and its workers with the SOCKET_FACTORY the user registered', async () => {
    const dir = tempDir('nsz-sockets-')
    const server = await startServer(['--min-servers', '1', '--pid-file', join(dir, 'server.pid')], { kind: 'sockets' })
    await server.serving(1)
    expect(text(await client(server.frontend).request('', 'abc'))).toEqual(['ABC'])
    const made = server.events.filter((e) => e.event === 'socket') as unknown as Array<{ kind: string, pid: number }>
    const parent = server.proc.pid!
    // The broker's two ROUTERs and the status socket (there is a pid file) in the parent…
    expect(made.filter((s) => s.pid === parent).map((s) => s.kind).sort()).toEqual(['reply', 'router', 'router'])
    // …and each worker's DEALER in a child.
    const dealers = made.filter((s) => s.kind === 'dealer')
    expect(dealers.length).toBeGreaterThanOrEqual(1)
    expect(dealers.every((s) => s.pid !== parent && server.seen.has(s.pid))).toBe(true)
  })
})
