/**
 * `nsz serve` under a low open-files limit: the warning at start, the log line when
 * the frontend cannot accept for want of descriptors, and new clients served again
 * once connections close. A real server process from dist, its limit set by the shell.
 */
import net from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { portOf } from '../../src/endpoints.js'
import { reqCall, reqClient } from '../support/broker.js'
import { logged, serve, suppressed } from '../support/cli.js'
import { fixture } from '../support/fixture.js'
import { stop } from '../support/security.js'

/** A TCP connection to `port` on loopback, once established; destroyed when the test ends. */
async function connection (port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  onTestFinished(() => { socket.destroy() })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

const EXHAUSTED = /^frontend: out of file descriptors \(EMFILE\): new connections are refused until some close; raise the open-files limit \(ulimit -n\)$/

describe('a low open-files limit', () => {
  it('is warned about at start; running out is logged, and new clients are served once connections close', async () => {
    const LIMIT = 64
    const { proc, frontend } = await serve(['--min-servers', '1', '--min-spare-servers', '0', '--log-level', '1', fixture('cli-app.js')], { openFiles: LIMIT })
    await proc.line(/^ready workers=1$/)
    expect(logged(proc, /open-files limit/)).toEqual([
      `the open-files limit is ${LIMIT} (ulimit -n): the broker can hold fewer than ${LIMIT} connections, clients and workers together; raise it (ulimit -n, or LimitNOFILE= in a systemd unit) to at least 4096`
    ])
    expect(await reqCall(reqClient(frontend), 'before')).toEqual(['BEFORE'])

    // Idle connections, each one descriptor in the broker once accepted, more than the
    // limit allows; those it cannot accept wait in the listen backlog (libzmq's is 100).
    const port = Number(portOf(frontend))
    const idle: net.Socket[] = []
    while (logged(proc, EXHAUSTED).length === 0 && idle.length < LIMIT + 20) idle.push(await connection(port))
    await proc.until(() => logged(proc, EXHAUSTED).length > 0, 'the log line about running out of descriptors', 10_000)
    // libzmq tries the accept again and again: the limiter keeps it to one line.
    expect(logged(proc, /out of file descriptors/)).toHaveLength(1)

    for (const socket of idle) socket.destroy()
    expect(await reqCall(reqClient(frontend), 'after')).toEqual(['AFTER'])
    await stop(proc)
    expect(suppressed(logged(proc, /out of file descriptors/), 'descriptors')).toBeGreaterThanOrEqual(0)
  })
})
