import { describe, expect, it } from 'vitest'

/**
 * A mutant that makes a module throw while it loads (a spec table built at import, say)
 * leaves the test files that import it unable to run, which Stryker does not count as a
 * failure. Importing each package here, inside a test, turns that into one.
 */
describe('every package loads', () => {
  it.each([
    ['@net-server/client', () => import('../packages/client/src/index.js')],
    ['@net-server/core', () => import('../packages/core/src/index.js')],
    ['@net-server/prefork', () => import('../packages/prefork/src/index.js')],
    ['@net-server/zmq', () => import('../packages/zmq-personality/src/index.js')]
  ])('%s', async (_, load) => {
    expect(Object.keys(await load()).length).toBeGreaterThan(0)
  })
})
