/**
 * Tests that only root can run (switching users, handing files over): as root they
 * run; elsewhere they skip with a warning, unless `NSZ_REQUIRE_ROOT=1` (as CI sets),
 * which turns the skip into a failure, as `NSZ_REQUIRE_INTEROP=1` does for interop.
 */
import { it } from 'vitest'

/** What becomes of root-only tests: they `run`, `skip`, or `fail` (required, and not root). */
export type RootTests = 'run' | 'skip' | 'fail'

/** The rule, for a process of `uid` in an environment `env`. */
export function rootTestsFor (uid: number | undefined, env: NodeJS.ProcessEnv): RootTests {
  if (uid === 0) return 'run'
  return env.NSZ_REQUIRE_ROOT === '1' ? 'fail' : 'skip'
}

/**
 * Whether the root-only tests `what` are skipped in this process. Not as root, it
 * warns; with `NSZ_REQUIRE_ROOT=1` it adds a failing test instead, and returns
 * `false` so that the tests run (and fail) rather than skip. Call it at a test file's
 * top level.
 *
 * @example
 * describe.skipIf(skipRootOnly('--user tests'))('nsz serve --user, as root', () => { … })
 */
export function skipRootOnly (what: string): boolean {
  const rule = rootTestsFor(process.getuid?.(), process.env)
  if (rule === 'run') return false
  if (rule === 'fail') {
    it(`${what} run as root, as NSZ_REQUIRE_ROOT=1 demands`, () => {
      throw new Error(`${what} need root and this process runs as uid ${process.getuid?.() ?? '?'}: run them as root, or unset NSZ_REQUIRE_ROOT`)
    })
    return false
  }
  console.warn(`${what} skipped: they need root (NSZ_REQUIRE_ROOT=1 makes this a failure; CI sets it and runs as root)`)
  return true
}
