import { describe, expect, it } from 'vitest'
import { rootTestsFor } from '@net-server/test-support'

describe('rootTestsFor', () => {
  it('runs the root-only tests as root, whatever NSZ_REQUIRE_ROOT says', () => {
    expect(rootTestsFor(0, {})).toBe('run')
    expect(rootTestsFor(0, { NSZ_REQUIRE_ROOT: '1' })).toBe('run')
  })

  it('skips them for another user, unless NSZ_REQUIRE_ROOT=1 turns the skip into a failure', () => {
    expect(rootTestsFor(1000, {})).toBe('skip')
    expect(rootTestsFor(1000, { NSZ_REQUIRE_ROOT: '0' })).toBe('skip')
    expect(rootTestsFor(1000, { NSZ_REQUIRE_ROOT: '1' })).toBe('fail')
    expect(rootTestsFor(undefined, { NSZ_REQUIRE_ROOT: '1' })).toBe('fail')
  })
})
