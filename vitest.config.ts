import { defineConfig } from 'vitest/config'

export default defineConfig({
  ssr: {
    resolve: {
      // Resolve workspace packages to their TypeScript sources: tests run without a build.
      conditions: ['@net-server/source']
    }
  },
  test: {
    // zeromq is a native addon: each test file gets its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'prefork', include: ['packages/prefork/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'zmq', include: ['packages/zmq-personality/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'client', include: ['packages/client/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'examples', include: ['examples/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'test-support', include: ['packages/test-support/test/**/*.test.ts'] } }
    ]
  }
})
