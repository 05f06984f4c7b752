import { describe, expect, it } from 'vitest'
import { boolean, custom, duration, integer, string, stringList, type OptionSpec } from '@net-server/core'
import { describe as describeValue } from '../../src/options.js'

/** The error `validate` throws for `value`, or `undefined` when it takes it. */
function refusal (spec: OptionSpec, value: unknown): Error | undefined {
  try {
    spec.validate(value, 'x')
    return undefined
  } catch (err) {
    return err as Error
  }
}

describe('what each builder makes', () => {
  it('names its kind, for --help', () => {
    const kinds = [
      integer({ description: 'd', default: 1 }), duration({ description: 'd', default: 1 }), string({ description: 'd', default: 's' }),
      boolean({ description: 'd', default: true }), stringList({ description: 'd', default: [] }), custom({ description: 'd', default: 0, check: () => 0 })
    ].map((spec) => spec.kind)
    expect(kinds).toEqual(['integer', 'duration', 'string', 'boolean', 'list', 'custom'])
  })

  it('keeps only the help fields it was given: none is set to undefined', () => {
    for (const spec of [integer({ description: 'd', default: 1 }), string({ description: 'd', default: 's' }), custom({ description: 'd', default: 0, check: () => 0 })]) {
      for (const field of ['group', 'order', 'placeholder', 'scope', 'flag']) expect(Object.keys(spec), `${spec.kind}: ${field}`).not.toContain(field)
    }
    expect(duration({ description: 'd', default: 1 })).not.toHaveProperty('whole')
  })
})

describe('integer', () => {
  const bounded = integer({ description: 'd', default: 2, min: 0, max: 4 })

  it('takes whole numbers within its bounds, both ends included', () => {
    expect([0, 2, 4].map((v) => bounded.validate(v, 'x'))).toEqual([0, 2, 4])
    expect(integer({ description: 'd', default: 1 }).validate(Number.MAX_SAFE_INTEGER, 'x')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it.each<[unknown, ErrorConstructor, string]>([
    [5, RangeError, 'options.x must be an integer from 0 to 4, got 5'],
    [-1, RangeError, 'options.x must be an integer from 0 to 4, got -1'],
    ['2', TypeError, "options.x must be an integer, got '2'"],
    [2.5, TypeError, 'options.x must be an integer, got 2.5'],
    [undefined, TypeError, 'options.x must be an integer, got undefined'],
    [null, TypeError, 'options.x must be an integer, got null'],
    [[2], TypeError, 'options.x must be an integer, got an array'],
    [true, TypeError, 'options.x must be an integer, got true'],
    [{}, TypeError, 'options.x must be an integer, got object']
  ])('refuses %j when it has a default', (value, Type, message) => {
    expect(refusal(bounded, value)).toEqual(new Type(message))
  })

  it('says what the bounds are in words', () => {
    expect(refusal(integer({ description: 'd', default: 1, min: 1 }), 0)?.message).toBe('options.x must be a positive integer, got 0')
    expect(refusal(integer({ description: 'd', default: 1, min: 0 }), -1)?.message).toBe('options.x must be a non-negative integer, got -1')
    expect(refusal(integer({ description: 'd', default: 3, min: 2 }), 1)?.message).toBe('options.x must be an integer >= 2, got 1')
  })

  it('takes undefined only when it has no default, and then any integer too', () => {
    const optional = integer<number | undefined>({ description: 'd', default: undefined, min: 1 })
    expect(optional.validate(undefined, 'x')).toBeUndefined()
    expect(optional.validate(7, 'x')).toBe(7)
    expect(refusal(optional, 0)).toBeInstanceOf(RangeError)
  })

  it('reads a number from text, white space around it ignored, and refuses text that is none', () => {
    expect(bounded.parse!(' 3 ', 'x')).toBe(3)
    for (const raw of ['', '   ', 'three', 'Infinity']) expect(() => bounded.parse!(raw, 'x'), raw).toThrow(new TypeError(`options.x must be a number, got '${raw}'`))
  })
})

describe('duration', () => {
  const timeout = duration({ description: 'd', default: 30_000, min: 1, max: 60_000 })

  it('takes milliseconds within its bounds, both ends included, fractions unless whole', () => {
    expect([1, 1.5, 60_000].map((v) => timeout.validate(v, 'x'))).toEqual([1, 1.5, 60_000])
    expect(duration({ description: 'd', default: 0 }).validate(2_147_483_647, 'x')).toBe(2_147_483_647)
    expect(duration({ description: 'd', default: 1, whole: true }).whole).toBe(true)
  })

  it.each<[unknown, ErrorConstructor, string]>([
    [0, RangeError, 'options.x must be at least 1 ms, got 0'],
    [60_001, RangeError, 'options.x must be at most 60000 ms, got 60001'],
    ['5', TypeError, "options.x must be a duration in milliseconds, got '5'"],
    [Number.NaN, TypeError, 'options.x must be a duration in milliseconds, got NaN'],
    [Number.POSITIVE_INFINITY, TypeError, 'options.x must be a duration in milliseconds, got Infinity'],
    [undefined, TypeError, 'options.x must be a duration in milliseconds, got undefined']
  ])('refuses %j', (value, Type, message) => {
    expect(refusal(timeout, value)).toEqual(new Type(message))
  })

  it('takes undefined only when it has no default', () => {
    expect(duration<number | undefined>({ description: 'd', default: undefined }).validate(undefined, 'x')).toBeUndefined()
    expect(duration<number | undefined>({ description: 'd', default: undefined }).validate(250, 'x')).toBe(250)
  })

  it('reads seconds from text and gives milliseconds, rounded', () => {
    expect(['2.5', '0.0004', '0.0006', ' 1 '].map((raw) => timeout.parse!(raw, 'x'))).toEqual([2500, 0, 1, 1000])
  })
})

describe('string', () => {
  it('takes any string, the empty one too, unless told otherwise', () => {
    const plain = string({ description: 'd', default: 'a' })
    expect(plain.validate('', 'x')).toBe('')
    expect(plain.parse!(' raw ', 'x')).toBe(' raw ')
    expect(refusal(plain, 5)).toEqual(new TypeError('options.x must be a string, got 5'))
    expect(refusal(plain, undefined)).toEqual(new TypeError('options.x must be a string, got undefined'))
    expect(string<string | undefined>({ description: 'd', default: undefined }).validate(undefined, 'x')).toBeUndefined()
  })

  it('refuses the empty string when nonEmpty, and what is not among its choices', () => {
    expect(refusal(string({ description: 'd', default: 'a', nonEmpty: true }), '')).toEqual(new RangeError('options.x must not be empty'))
    const mode = string({ description: 'd', default: 'fast', choices: ['fast', 'slow'] })
    expect(mode.validate('slow', 'x')).toBe('slow')
    expect(refusal(mode, 'medium')).toEqual(new RangeError("options.x must be one of fast, slow, got 'medium'"))
  })
})

describe('boolean', () => {
  const flag = boolean({ description: 'd', default: false })

  it.each([
    ['1', true], ['true', true], ['yes', true], ['on', true], ['TRUE', true], ['Yes', true],
    ['0', false], ['false', false], ['no', false], ['off', false], ['OFF', false]
  ])('reads %j as %s', (raw, value) => {
    expect(flag.parse!(raw, 'x')).toBe(value)
  })

  it('refuses any other word, and any value that is not a boolean', () => {
    for (const raw of ['', 'y', 'nope', '2']) {
      expect(() => flag.parse!(raw, 'x'), raw).toThrow(new TypeError(`options.x must be a boolean (true/false, yes/no, 1/0), got '${raw}'`))
    }
    expect(refusal(flag, 'true')).toEqual(new TypeError("options.x must be a boolean, got 'true'"))
    expect(refusal(flag, 1)).toEqual(new TypeError('options.x must be a boolean, got 1'))
  })
})

describe('stringList', () => {
  const list = stringList({ description: 'd', default: [] })

  it('splits text on commas, trims each item and drops the empty ones', () => {
    expect(list.parse!(' a , b,,c ', 'x')).toEqual(['a', 'b', 'c'])
    expect(list.parse!(' , ', 'x')).toEqual([])
    expect(stringList({ description: 'd', default: [], split: false }).parse!(' a{1,2} ', 'x')).toEqual(['a{1,2}'])
    expect(stringList({ description: 'd', default: [], split: false }).parse!('  ', 'x')).toEqual([])
  })

  it('takes a string or an array of strings, and returns a frozen copy', () => {
    const given = ['a', 'b']
    const value = list.validate(given, 'x')
    expect(value).toEqual(['a', 'b'])
    expect(value).not.toBe(given)
    expect(Object.isFrozen(value)).toBe(true)
    expect(list.validate('a', 'x')).toEqual(['a'])
  })

  it.each([[5], [undefined], [['a', 5]], [[null]]])('refuses %j', (value) => {
    expect(refusal(list, value)).toEqual(new TypeError(`options.x must be a string or an array of strings, got ${describeValue(value)}`))
  })

  it('checks each item', () => {
    const checked = stringList({ description: 'd', default: [], item: (v, name) => { if (v === 'bad') throw new RangeError(`${name}: ${v}`) } })
    expect(checked.validate(['good'], 'x')).toEqual(['good'])
    expect(refusal(checked, ['good', 'bad'])).toEqual(new RangeError('x: bad'))
  })
})

describe('describe, for error messages', () => {
  it.each<[unknown, string]>([
    [null, 'null'], [[], 'an array'], ['s', "'s'"], [1.5, '1.5'], [false, 'false'], [undefined, 'undefined'], [{}, 'object'], [() => 1, 'function']
  ])('%j reads %s', (value, text) => {
    expect(describeValue(value)).toBe(text)
  })
})
