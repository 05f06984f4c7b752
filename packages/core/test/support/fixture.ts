import { fileURLToPath } from 'node:url'
import { ROOT, startTs, type TestProcess } from '@net-server/test-support'

const FIXTURE = fileURLToPath(new URL('../fixtures/line-server-main.ts', import.meta.url))

/**
 * Starts the line server fixture as a real process with `args` as its command line
 * (stdin open: each line releases a slow USR2 action); killed when the test finishes.
 */
export function startFixture (args: readonly string[]): TestProcess {
  return startTs(FIXTURE, args, { cwd: ROOT, stdin: true })
}
