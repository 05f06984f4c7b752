/**
 * Runs the examples as a user does: `node examples/X.js --port 0,0 …` against the
 * built packages, in a process group of their own so that cleanup reaches the workers.
 */
import { fileURLToPath } from 'node:url'
import { BUILT_PACKAGES, ROOT, TestProcess, requireFreshBuild } from '@net-server/test-support'

/** The built `nsz` command. */
export const NSZ = fileURLToPath(new URL('../../../packages/zmq-personality/dist/bin/nsz.js', import.meta.url))

/** Flags every test passes: free ports, a small pool, quiet logs. */
export const TEST_FLAGS = ['--port', '0,0', '--min-servers', '2', '--max-servers', '4', '--log-level', '1']

/**
 * The examples import the packages' built `dist/`, as users do: without a build they
 * cannot start, and with a stale one they would test old code, so say so instead.
 */
export function requireBuild (): void {
  requireFreshBuild(BUILT_PACKAGES)
}

/** A running example: the process and the fields of its `listening key=value …` line. */
export interface Example extends TestProcess {
  /** `frontend`, `backend`, … */
  readonly ready: Readonly<Record<string, string>>
}

/**
 * Starts `node <args…>` from the repository root and resolves once it printed its
 * `listening` line. The process and its workers are killed when the test ends;
 * `stop()` signals it (SIGTERM by default) and resolves with how it ended.
 */
export async function startExample (args: readonly string[]): Promise<Example> {
  const proc = new TestProcess(process.execPath, args, { cwd: ROOT, group: true, json: false })
  const [line] = await proc.line(/^listening .*$/)
  const ready = Object.fromEntries(line.split(' ').slice(1).map((kv) => kv.split('=', 2) as [string, string]))
  return Object.assign(proc, { ready })
}
