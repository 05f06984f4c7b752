/**
 * `pnpm mutation`: StrykerJS over the modules whose logic decides, each mutant run
 * against the unit tests that cover it (`mutation/vitest.config.ts`). Writes
 * `reports/mutation/mutation.json` and `reports/mutation/index.html`. See docs/testing.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'mutation/vitest.config.ts', related: true },
  // Each mutant runs only the tests that reached it in the first, instrumented run.
  coverageAnalysis: 'perTest',
  mutate: [
    // the protocol codec
    'packages/client/src/protocol.ts',
    'packages/client/src/protocol-frontend.ts',
    // the scaling rules
    'packages/prefork/src/scaling.ts',
    // the dispatch policy
    'packages/zmq-personality/src/dispatch.ts',
    'packages/zmq-personality/src/fair-queue.ts',
    // option resolution
    'packages/core/src/options.ts',
    'packages/core/src/server-options.ts',
    'packages/prefork/src/options.ts',
    'packages/zmq-personality/src/options.ts',
    'packages/zmq-personality/src/server-options.ts',
    // access rules
    'packages/core/src/access.ts',
    'packages/zmq-personality/src/security/zap-policy.ts',
    'packages/zmq-personality/src/security/backend-policy.ts',
    // the broker's tables
    'packages/zmq-personality/src/broker-tables.ts',
    'packages/zmq-personality/src/ready-set.ts'
  ],
  ignorePatterns: ['**/dist', 'bench/results', 'coverage', '.vitest-*'],
  concurrency: 2,
  timeoutMS: 3_000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  clearTextReporter: { allowColor: false, reportTests: false },
  thresholds: { high: 95, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true
}
