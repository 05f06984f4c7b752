import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { NszError } from '@net-server/core'
import { PreForkErrorCode } from '@net-server/prefork'
import { crashLoopError, notAChildError } from '../../src/errors.js'

const table = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8')

function documented (pkg: string): string[] {
  return table.split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim().replace(/`/g, '')))
    .filter((cells) => cells.length >= 5 && cells[2] === pkg)
    .map((cells) => cells[1]!.replace(/`/g, ''))
}

describe('error codes', () => {
  it('docs/errors.md has one row per code of @net-server/prefork, and no other', () => {
    expect(documented('@net-server/prefork').sort()).toEqual(Object.values(PreForkErrorCode).sort())
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
