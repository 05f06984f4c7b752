import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * The tests that `pnpm mutation` runs against each mutant: the unit tests of the modules
 * whose logic decides, and nothing that starts a process or waits on a socket, so that a
 * mutant costs milliseconds. Stryker runs this config inside its sandbox, a copy of the
 * workspace: the aliases point the packages at the sandbox's sources (the workspace's
 * links would lead back to the unmutated ones).
 */
const source = (dir: string): string => fileURLToPath(new URL(`../packages/${dir}/src/index.ts`, import.meta.url))

export const MUTATION_TESTS = [
  'mutation/modules-load.test.ts',
  'packages/client/test/unit/protocol.test.ts',
  'packages/core/test/unit/access.test.ts',
  'packages/core/test/unit/option-specs.test.ts',
  'packages/core/test/unit/options.test.ts',
  'packages/prefork/test/unit/options.test.ts',
  'packages/prefork/test/unit/scaling.test.ts',
  'packages/zmq-personality/test/unit/backend-policy.test.ts',
  'packages/zmq-personality/test/unit/broker-tables.test.ts',
  'packages/zmq-personality/test/unit/dispatch.test.ts',
  'packages/zmq-personality/test/unit/fair-queue.test.ts',
  'packages/zmq-personality/test/unit/options-docs.test.ts',
  'packages/zmq-personality/test/unit/options.test.ts',
  'packages/zmq-personality/test/unit/security-server-options.test.ts',
  'packages/zmq-personality/test/unit/server-options.test.ts',
  'packages/zmq-personality/test/unit/zap-policy.test.ts'
]

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: {
    alias: {
      '@net-server/core': source('core'),
      '@net-server/prefork': source('prefork'),
      '@net-server/zmq': source('zmq-personality'),
      '@net-server/client': source('client'),
      '@net-server/test-support': source('test-support')
    }
  },
  test: {
    include: MUTATION_TESTS,
    pool: 'forks',
    testTimeout: 10_000
  }
})
