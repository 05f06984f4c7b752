import { describe, expect, it } from 'vitest'
import { browserTestsFor } from '@net-server/test-support'

describe('browserTestsFor', () => {
  it('runs the browser tests where the browser is, whatever NSZ_REQUIRE_BROWSER says', () => {
    expect(browserTestsFor(true, {})).toBe('run')
    expect(browserTestsFor(true, { NSZ_REQUIRE_BROWSER: '1' })).toBe('run')
  })

  it('skips them without it, unless NSZ_REQUIRE_BROWSER=1 turns the skip into a failure', () => {
    expect(browserTestsFor(false, {})).toBe('skip')
    expect(browserTestsFor(false, { NSZ_REQUIRE_BROWSER: '0' })).toBe('skip')
    expect(browserTestsFor(false, { NSZ_REQUIRE_BROWSER: '1' })).toBe('fail')
  })
})
