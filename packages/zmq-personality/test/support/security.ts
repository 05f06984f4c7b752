/**
 * The security tests' fixture (`fixtures/security-server.ts`) as a real process: start
 * it as a broker or a pool, wait for its ZAP decisions, stop it.
 */
import { expect } from 'vitest'
import { TSX, startProcess, within, type TestProcess } from '@net-server/test-support'
import { fixture } from './fixture.js'

const FIXTURE = fixture('security-server.ts')

/** Two children, free ports. */
export const SMALL = ['--port', '0,0', '--min-servers', '2', '--max-servers', '2']

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** A running fixture and the endpoints it announced. */
export interface Running {
  readonly proc: TestProcess
  readonly frontend: string
  readonly backend: string
}

/** Starts the fixture (its process group is killed when the test ends) and waits until it listens. */
export async function start (role: 'broker' | 'pool', args: readonly string[]): Promise<Running> {
  const proc = startProcess(process.execPath, [...TSX, FIXTURE, role, ...args], { group: true })
  const [line] = await proc.line(/^\{"event":"listening".*$/, 20_000)
  const { endpoints } = JSON.parse(line) as { endpoints: string[] }
  return { proc, frontend: endpoints[0]!, backend: endpoints[1] ?? '' }
}

/**
 * The next ZAP decision line of the broker that matches all of `fields`, within `ms`
 * (longer where the peer is a pool still to boot: a parent and a child, each through tsx).
 */
export async function decision (proc: TestProcess, fields: { domain?: string, mechanism?: string, publicKey?: string, address?: string, allowed: boolean }, ms = 10_000): Promise<void> {
  const parts = Object.entries(fields).map(([k, v]) => `(?=.*"${k}":${escape(JSON.stringify(v))})`)
  await proc.line(new RegExp(`^(?=.*"event":"zap")${parts.join('')}`), ms)
}

/** Stops the process with TERM and expects it to exit 0 by itself: nothing left open. */
export async function stop (proc: TestProcess): Promise<void> {
  proc.signal('SIGTERM')
  const { code } = await within(proc.closed, 10_000, 'the server to exit after SIGTERM')
  expect(code).toBe(0)
}
