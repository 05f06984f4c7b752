import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { NszError } from '@net-server/core'
import { SecurityErrorCode, keyFileError, zapBindError, zapStateError } from '../../src/security-errors.js'

const PACKAGE = '@net-server/zmq'

/** The rows of docs/errors.md: `| code | package | meaning |`. */
function documentedCodes (): Array<{ code: string, pkg: string, meaning: string }> {
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8')
  const rows = []
  for (const line of doc.split('\n')) {
    const cells = line.trim().match(/^\|(.*)\|$/)?.[1]?.split('|').map((c) => c.trim().replace(/^`|`$/g, ''))
    if (cells === undefined || cells.length !== 3 || !cells[0]!.startsWith('NSZ_ERR_')) continue
    rows.push({ code: cells[0]!, pkg: cells[1]!, meaning: cells[2]! })
  }
  return rows
}

describe('docs/errors.md', () => {
  it('has one row for each security code, under this package', () => {
    const rows = documentedCodes()
    for (const code of Object.values(SecurityErrorCode)) {
      const mine = rows.filter((r) => r.code === code)
      expect(mine, code).toHaveLength(1)
      expect(mine[0]!.pkg).toBe(PACKAGE)
      expect(mine[0]!.meaning.length).toBeGreaterThan(10)
    }
  })
})

describe('security error factories', () => {
  it.each([
    [keyFileError('/k.json', 'is not valid JSON'), SecurityErrorCode.KEY_FILE, 'key file /k.json: is not valid JSON'],
    [zapBindError('inproc://zeromq.zap.01', new Error('Address already in use')), SecurityErrorCode.ZAP_BIND,
      'the ZAP handler cannot bind inproc://zeromq.zap.01: Address already in use (one handler per zeromq context)'],
    [zapStateError('closed'), SecurityErrorCode.ZAP_STATE, 'the ZAP handler is already closed']
  ])('%s', (err, code, message) => {
    expect(err).toBeInstanceOf(NszError)
    expect(err.code).toBe(code)
    expect(err.message).toBe(message)
  })

  it('keeps the cause', () => {
    const cause = Object.assign(new Error('busy'), { code: 'EADDRINUSE' })
    expect(zapBindError('inproc://x', cause).cause).toBe(cause)
    expect(keyFileError('/k', 'x').cause).toBeUndefined()
  })
})
