import { describe, expect, it } from 'vitest'
import { hostOf } from '../../src/server-status.js'

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex')

describe('hostOf', () => {
  it.each<[string, string, string | undefined]>([
    ['a pool\'s worker', hex('worker-b.example/') + 'a1b2c3d4e5f6', 'worker-b.example'],
    ['a local child\'s tag', hex('0123456789abcdef.') + 'a1b2c3', undefined],
    ['an id libzmq picked (a zero byte first)', '00a1b2c3d4', undefined],
    ['an empty host', hex('/') + 'a1b2', undefined],
    ['a host with a space', hex('two words/') + 'a1', undefined],
    ['a host over 64 characters', hex(`${'h'.repeat(65)}/`) + 'a1', undefined]
  ])('%s', (_, id, host) => {
    expect(hostOf(id)).toBe(host)
  })
})
