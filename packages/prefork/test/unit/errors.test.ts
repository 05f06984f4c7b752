import { describe, expect, it } from 'vitest'
import { NszError } from '@net-server/core'
import { PreForkErrorCode } from '@net-server/prefork'
import { documentedCodes } from '@net-server/test-support'
import { crashLoopError, notAChildError } from '../../src/errors.js'

describe('error codes', () => {
  it('docs/errors.md has one row per code of @net-server/prefork, and no other', () => {
    expect(documentedCodes('@net-server/prefork').sort()).toEqual(Object.values(PreForkErrorCode).sort())
  })

  it('each factory makes an NszError with its code and a way out', () => {
    const crash = crashLoopError(3, 'child 42 exited during boot (exit code 1)')
    expect(crash).toBeInstanceOf(NszError)
    expect(crash.code).toBe(PreForkErrorCode.CRASH_LOOP)
    expect(crash.message).toMatch(/failed to boot 3 times in a row \(last: child 42 exited during boot \(exit code 1\)\)/)
    const notChild = notAChildError('runChild()')
    expect(notChild.code).toBe(PreForkErrorCode.NOT_A_CHILD)
    expect(notChild.message).toMatch(/^runChild\(\) runs only in a child process/)
  })
})
