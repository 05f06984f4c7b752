/**
 * Tests in a real browser: Debian's chromium (`apt-get install chromium`), driven by
 * playwright-core, which downloads no browser. Where the browser is missing they skip
 * with a warning saying what to install, unless `NSZ_REQUIRE_BROWSER=1` (as CI sets),
 * which turns the skip into a failure, as `NSZ_REQUIRE_ROOT=1` does for root.
 */
import { existsSync } from 'node:fs'
import { it } from 'vitest'

/** The browser the tests drive: `NSZ_CHROMIUM`, else Debian's. */
export const CHROMIUM = process.env.NSZ_CHROMIUM ?? '/usr/bin/chromium'

/** What becomes of the browser tests: they `run`, `skip`, or `fail` (required, and no browser). */
export function browserTestsFor (found: boolean, env: NodeJS.ProcessEnv): 'run' | 'skip' | 'fail' {
  if (found) return 'run'
  return env.NSZ_REQUIRE_BROWSER === '1' ? 'fail' : 'skip'
}

/**
 * Whether the browser tests `what` are skipped in this process. Without the browser it
 * warns; with `NSZ_REQUIRE_BROWSER=1` it adds a failing test instead, and returns
 * `false` so that the tests run (and fail). Call it at a test file's top level.
 */
export function skipWithoutBrowser (what: string): boolean {
  const rule = browserTestsFor(existsSync(CHROMIUM), process.env)
  if (rule === 'run') return false
  const why = `${what} need a browser at ${CHROMIUM} (apt-get install chromium, or set NSZ_CHROMIUM)`
  if (rule === 'fail') {
    it(`${what} run in a browser, as NSZ_REQUIRE_BROWSER=1 demands`, () => { throw new Error(why) })
    return false
  }
  console.warn(`${what} skipped: they ${why.slice(what.length + 1)} (NSZ_REQUIRE_BROWSER=1 makes this a failure; CI sets it)`)
  return true
}

/** The browser's command-line flags here: as root, chromium runs only without its sandbox. */
export function browserArgs (): string[] {
  return process.getuid?.() === 0 ? ['--no-sandbox'] : []
}
