import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CoreErrorCode, NszError, OPTION_GROUPS, boolean, custom, duration, integer, kebabCase, optionDefaults,
  pickOptions, resolveOptions, serverOptionSpecs, string, stringList, type OptionSources, type OptionSpecs
} from '@net-server/core'
import { tempDir } from '@net-server/test-support'
import { camelCase, describe as describeValue, parseCommandLine, parseConfFile, parseConfText } from '../../src/options.js'

// Built in each test (`specs()`), so that a table that fails to build fails the tests.
const specs = (): OptionSpecs => ({
  ...serverOptionSpecs(),
  minServers: integer({ description: 'fewest', default: 1, min: 1 }),
  maxRequests: integer<number | undefined>({ description: 'most', default: undefined }),
  jobTimeout: duration({ description: 'timeout', default: 30_000 }),
  verbose: boolean({ description: 'chatty', default: false }),
  mode: string({ description: 'mode', default: 'fast', choices: ['fast', 'slow'] }),
  ports: stringList({ description: 'ports', default: ['6660'] })
})

describe('names', () => {
  it('turns kebab and snake case into camelCase and back', () => {
    expect(camelCase('min-servers')).toBe('minServers')
    expect(camelCase('min_servers')).toBe('minServers')
    expect(camelCase('cidr_allow')).toBe('cidrAllow')
    expect(camelCase('minServers')).toBe('minServers')
    expect(camelCase('min--servers')).toBe('minServers')
    expect(camelCase('min__servers')).toBe('minServers')
    expect(kebabCase('cidrAllow')).toBe('cidr-allow')
  })
})

describe('parseCommandLine', () => {
  it.each([
    [['--min-servers', '5'], { minServers: 5 }],
    [['--min-servers=5'], { minServers: 5 }],
    [['--min_servers=5'], { minServers: 5 }],
    [['--min_servers', '5'], { minServers: 5 }],
    [['--minServers=5'], { minServers: 5 }],
    [['--verbose'], { verbose: true }],
    [['--verbose', '--min-servers', '2'], { verbose: true, minServers: 2 }],
    [['--verbose', 'false'], { verbose: false }],
    [['--verbose=no'], { verbose: false }],
    [['--verbose', 'app.js'], { verbose: true }],
    [['--verbose', 'untrue'], { verbose: true }],
    [['--verbose', 'yesterday'], { verbose: true }],
    [['--verbose', '--'], { verbose: true }],
    [['--no-verbose'], { verbose: false }],
    [['--no-handle-signals'], { handleSignals: false }],
    [['--handle-signals'], { handleSignals: true }],
    [['--log-file', '/tmp/x.log', '--pid-file=/tmp/x.pid'], { logFile: '/tmp/x.log', pidFile: '/tmp/x.pid' }]
  ])('%j parses to %j', (argv, expected) => {
    expect(parseCommandLine(argv, specs())).toEqual(expected)
  })

  it('leaves positional arguments alone and stops at --', () => {
    expect(parseCommandLine(['serve', 'app.js', '--min-servers', '3', '--', '--not-ours'], specs())).toEqual({ minServers: 3 })
  })

  it('never reads an option whose own name starts with no as a negation', () => {
    const table: OptionSpecs = { delay: boolean({ description: 'd', default: true }), nodelay: boolean({ description: 'n', default: false }) }
    expect(parseCommandLine(['--nodelay'], table)).toEqual({ nodelay: true })
    expect(parseCommandLine(['--no-delay'], table)).toEqual({ delay: false })
  })

  it('lets a later flag replace an earlier one unless the option is a list', () => {
    const table: OptionSpecs = { ...specs(), tags: { description: 'tags', default: [], parse: (raw) => [raw], validate: (v) => v } }
    expect(parseCommandLine(['--tags', 'a', '--tags', 'b', '--min-servers', '2', '--min-servers', '3'], table)).toEqual({ tags: ['b'], minServers: 3 })
  })

  it('accumulates repeated list options and splits commas, but never splits regular expressions', () => {
    expect(parseCommandLine(['--ports', '1', '--ports=2,3'], specs())).toEqual({ ports: ['1', '2', '3'] })
    expect(parseCommandLine(['--cidr-allow', '10.0.0.0/8,192.168.0.0/16', '--cidr_allow=::1'], specs()))
      .toEqual({ cidrAllow: ['10.0.0.0/8', '192.168.0.0/16', '::1'] })
    expect(parseCommandLine(['--allow', '10\\.0\\.\\d{1,3}\\.\\d{1,3}', '--allow', 'localhost'], specs()))
      .toEqual({ allow: ['10\\.0\\.\\d{1,3}\\.\\d{1,3}', 'localhost'] })
    expect(parseCommandLine(['--deny', 'h{1,2}', '--cidr-deny', '10.0.0.0/8,::1'], specs())).toEqual({ deny: ['h{1,2}'], cidrDeny: ['10.0.0.0/8', '::1'] })
  })

  it('reads durations in seconds and returns milliseconds', () => {
    expect(parseCommandLine(['--job-timeout', '2.5'], specs())).toEqual({ jobTimeout: 2500 })
    expect(parseCommandLine(['--job-timeout=0'], specs())).toEqual({ jobTimeout: 0 })
  })

  it('refuses durations longer than a Node timer holds (2^31 - 1 ms), which would fire at once', () => {
    expect(() => parseCommandLine(['--job-timeout', '2147484'], specs())).toThrow(/options\.jobTimeout must be at most 2147483647 ms/)
    expect(parseCommandLine(['--job-timeout', '2147483'], specs())).toEqual({ jobTimeout: 2_147_483_000 })
  })

  it.each([
    [['--min-servres', '5'], NszError, CoreErrorCode.COMMAND_LINE, /unknown option 'minServres' in the command line \(did you mean 'minServers'\?\)/],
    [['--min-servers'], NszError, CoreErrorCode.COMMAND_LINE, /option --min-servers needs a value/],
    [['--argv', 'x'], NszError, CoreErrorCode.COMMAND_LINE, /option --argv can only be set from code/],
    [['--min-servers', 'many'], TypeError, undefined, /options\.minServers must be a number, got 'many'/],
    [['--min-servers', '0'], RangeError, undefined, /options\.minServers must be a positive integer, got 0/],
    [['--min-servers=1.5'], TypeError, undefined, /options\.minServers must be an integer, got 1\.5/],
    [['--job-timeout', '-1'], RangeError, undefined, /options\.jobTimeout must be at least 0 ms, got -1000/],
    [['--verbose=maybe'], TypeError, undefined, /options\.verbose must be a boolean/],
    [['--mode', 'medium'], RangeError, undefined, /options\.mode must be one of fast, slow, got 'medium'/],
    [['--cidr-deny', '10.0.0.0/'], RangeError, undefined, /options\.cidrDeny must hold CIDR blocks/],
    [['--allow', '(unclosed'], RangeError, undefined, /options\.allow must hold regular expressions, got '\(unclosed'/],
    // Only the no- prefix of a boolean option, with no value, negates it.
    [['--no-verbose=yes'], NszError, CoreErrorCode.COMMAND_LINE, /^command line: unknown option 'noVerbose' in the command line/],
    [['--ab-verbose'], NszError, CoreErrorCode.COMMAND_LINE, /^command line: unknown option 'abVerbose' in the command line/],
    [['--no-mode'], NszError, CoreErrorCode.COMMAND_LINE, /^command line: unknown option 'noMode' in the command line/],
    [['--no-such'], NszError, CoreErrorCode.COMMAND_LINE, /^command line: unknown option 'noSuch' in the command line/],
    [['--no'], NszError, CoreErrorCode.COMMAND_LINE, /^command line: unknown option 'no' in the command line/],
    [['--min-servers='], TypeError, undefined, /^options\.minServers must be a number, got ''$/],
    [['--min-servers', '  '], TypeError, undefined, /^options\.minServers must be a number, got ' {2}'$/]
  ])('%j is refused', (argv, type, code, message) => {
    let error: unknown
    try {
      parseCommandLine(argv, specs())
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(type)
    expect((error as NszError).code).toBe(code)
    expect((error as Error).message).toMatch(message)
  })
})

describe('parseConfText', () => {
  it('reads Net::Server key value lines with comments, blank lines, both key cases and repeated list keys', () => {
    const text = [
      '# a Net::Server conf file',
      '',
      'min_servers   3',
      'jobTimeout 1.5   # seconds',
      '   verbose',
      'log-file /var/log/x.log',
      'cidr_allow 10.0.0.0/8',
      'cidr_allow 192.168.0.0/16, ::1',
      'allow ^host\\d{1,3}$',
      'mode=slow',
      '\t',
      'ports 1'
    ].join('\n')
    expect(parseConfText(text, specs(), 'x.conf')).toEqual({
      minServers: 3,
      jobTimeout: 1500,
      verbose: true,
      logFile: '/var/log/x.log',
      cidrAllow: ['10.0.0.0/8', '192.168.0.0/16', '::1'],
      allow: ['^host\\d{1,3}$'],
      mode: 'slow',
      ports: ['1']
    })
  })

  it('takes the last value of a repeated scalar key and reads CRLF files', () => {
    expect(parseConfText('min_servers 2\r\nmin_servers 4\r\n', specs())).toEqual({ minServers: 4 })
  })

  it('names the text <conf> when it has no file name', () => {
    expect(() => parseConfText('min_servres 3', specs())).toThrow(/^conf file <conf>: line 1: unknown option 'minServres'/)
  })

  it('reads a file, and says which one it cannot read and why', () => {
    const file = join(tempDir(), 'server.conf')
    writeFileSync(file, 'min_servers 3\n')
    expect(parseConfFile(file, specs())).toEqual({ minServers: 3 })
    const missing = join(tempDir(), 'none.conf')
    expect(() => parseConfFile(missing, specs())).toThrow(expect.objectContaining({
      code: CoreErrorCode.CONF_FILE, message: `conf file ${missing}: cannot be read (ENOENT): check options.confFile`
    }))
  })

  it.each([
    ['min_servers 2\nmin_servres 3', /conf file my\.conf: line 2: unknown option 'minServres' in the conf file \(did you mean 'minServers'\?\)/],
    ['\n\nmin_servers lots', /conf file my\.conf: line 3: options\.minServers must be a number, got 'lots'/],
    ['min_servers 0', /conf file my\.conf: line 1: options\.minServers must be a positive integer, got 0/],
    ['log_level 9', /conf file my\.conf: line 1: options\.logLevel must be an integer from 0 to 4, got 9/],
    ['verbose perhaps', /line 1: options\.verbose must be a boolean/],
    ['cidr_deny 300.0.0.0/8', /line 1: options\.cidrDeny must hold CIDR blocks/],
    ['deny [a-', /line 1: options\.deny must hold regular expressions/],
    ['= 5', /conf file my\.conf: line 1 is not 'key value': = 5/],
    ['9lives 1', /conf file my\.conf: line 1 is not 'key value': 9lives 1/],
    ['argv --x', /line 1: option argv can only be set from code/],
    ['log_file', /line 1: options\.logFile must not be empty/]
  ])('%j is refused with the file and line', (text, message) => {
    let error: unknown
    try {
      parseConfText(text, specs(), 'my.conf')
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(NszError)
    expect((error as NszError).code).toBe(CoreErrorCode.CONF_FILE)
    expect((error as Error).message).toMatch(message)
  })
})

describe('resolveOptions', () => {
  const sources = {
    constructor: { minServers: 5 },
    commandLine: { minServers: 4 },
    run: { minServers: 3 },
    confFile: { minServers: 2 }
  } as const
  const names = Object.keys(sources) as Array<keyof typeof sources>
  const subsets = Array.from({ length: 16 }, (_, mask) => names.filter((_, i) => (mask & (1 << i)) !== 0))

  it.each(subsets.map((s) => [s.join(' + ') || 'defaults only', s] as const))('%s: the highest source wins', (_, present) => {
    const chosen = Object.fromEntries(present.map((n) => [n, sources[n]]))
    const expected = present.length === 0 ? 1 : sources[present[0]!].minServers
    expect(resolveOptions<{ minServers: number }>(specs(), chosen as unknown as OptionSources).minServers).toBe(expected)
  })

  it('lets an undefined value fall through to the next source, fills defaults and freezes the result', () => {
    const o = resolveOptions<Record<string, unknown>>(specs(), { constructor: { minServers: undefined }, run: { minServers: 7 } })
    expect(o.minServers).toBe(7)
    expect(o.jobTimeout).toBe(30_000)
    expect(o.maxRequests).toBeUndefined()
    expect(o.cidrAllow).toEqual([])
    expect(Object.isFrozen(o)).toBe(true)
    expect(Object.isFrozen(o.ports)).toBe(true)
  })

  it('does not merge list options across sources: the higher source replaces the list', () => {
    const o = resolveOptions<{ ports: string[] }>(specs(), { constructor: { ports: ['1'] }, confFile: { ports: ['2', '3'] } })
    expect(o.ports).toEqual(['1'])
  })

  it('accepts a single string for a list option', () => {
    expect(resolveOptions<{ deny: string[] }>(specs(), { constructor: { deny: 'a' } }).deny).toEqual(['a'])
  })

  it.each([
    ['constructor', 'the constructor options'],
    ['commandLine', 'the command line'],
    ['run', 'the run() options'],
    ['confFile', 'the conf file']
  ] as const)('refuses an unknown name in %s with a did-you-mean', (source, where) => {
    expect(() => resolveOptions(specs(), { [source]: { minServer: 2 } } as unknown as OptionSources)).toThrow(
      expect.objectContaining({ code: CoreErrorCode.UNKNOWN_OPTION, message: `unknown option 'minServer' in ${where} (did you mean 'minServers'?)` })
    )
  })

  it('gives no hint when nothing is close', () => {
    expect(() => resolveOptions(specs(), { constructor: { zzzzzzzz: 1 } })).toThrow("unknown option 'zzzzzzzz' in the constructor options")
    expect(() => resolveOptions(specs(), { constructor: { zzzzzzzz: 1 } })).not.toThrow(/did you mean/)
  })
})

describe('spec metadata', () => {
  it('keeps what each builder is given for --help: group, order, placeholder, scope, flag', () => {
    const spec = integer({ description: 'd', default: 1, min: 1, group: 'Jobs', order: 2, placeholder: '<k>', scope: 'broker', flag: false })
    expect(spec).toMatchObject({ kind: 'integer', min: 1, group: 'Jobs', order: 2, placeholder: '<k>', scope: 'broker', flag: false })
    for (const built of [duration({ description: 'd', default: 1, group: 'Jobs' }), string({ description: 'd', default: 'x', group: 'Jobs' }),
      boolean({ description: 'd', default: true, group: 'Jobs' }), stringList({ description: 'd', default: [], group: 'Jobs' }),
      custom({ description: 'd', default: 0, group: 'Jobs', check: () => 0 })]) {
      expect(built.group).toBe('Jobs')
    }
    expect(Object.keys(integer({ description: 'd', default: 1 }))).not.toContain('group')
  })

  it('rebuilds a spec with one change and everything else kept: the override of a parent\'s option', () => {
    const base = duration({ description: 'period', default: 2500, min: 1, whole: true, group: 'Jobs' })
    const server = duration({ ...base, min: 10 })
    expect(server).toMatchObject({ description: 'period', default: 2500, min: 10, whole: true, group: 'Jobs' })
    expect(() => base.validate(5, 'x')).not.toThrow()
    expect(() => server.validate(5, 'x')).toThrow(new RangeError('options.x must be at least 10 ms, got 5'))
  })

  it('takes whole milliseconds only when asked', () => {
    expect(duration({ description: 'd', default: 1 }).validate(1.5, 'x')).toBe(1.5)
    expect(() => duration({ description: 'd', default: 1, whole: true }).validate(1.5, 'x'))
      .toThrow(new TypeError('options.x must be a whole number of milliseconds, got 1.5'))
  })

  it('puts every core option that can be a flag in a group, handleSignals aside', () => {
    for (const [name, spec] of Object.entries(serverOptionSpecs())) {
      if (spec.parse === undefined || name === 'handleSignals') continue
      expect(OPTION_GROUPS, name).toContain(spec.group)
    }
    expect(serverOptionSpecs().handleSignals!.flag).toBe(false)
  })
})

describe('the options every server has', () => {
  it('refuses an empty file, user or group name', () => {
    const core = serverOptionSpecs()
    for (const name of ['logFile', 'pidFile', 'confFile', 'user', 'group']) {
      expect(() => core[name]!.validate('', name), name).toThrow(new RangeError(`options.${name} must not be empty`))
      expect(core[name]!.validate(undefined, name), name).toBeUndefined()
    }
  })

  it('reads the process\'s own command line, or none with false, and keeps a frozen copy of one it is given', () => {
    const { argv } = serverOptionSpecs()
    expect(argv!.default).toEqual(process.argv.slice(2))
    expect(argv!.validate(false, 'argv')).toBe(false)
    const given = ['--min-servers', '2']
    const kept = argv!.validate(given, 'argv')
    expect(kept).toEqual(given)
    expect(kept).not.toBe(given)
    expect(Object.isFrozen(kept)).toBe(true)
    for (const bad of [true, '--x', ['--x', 1], undefined]) {
      expect(() => argv!.validate(bad, 'argv'), String(bad)).toThrow(new TypeError(`options.argv must be an array of strings or false, got ${describeValue(bad)}`))
    }
  })
})

describe('optionDefaults and pickOptions', () => {
  const table = {
    a: integer({ description: 'a', default: 1 }),
    b: string<string | undefined>({ description: 'b', default: undefined })
  }

  it('lists the defaults of a table, frozen', () => {
    const defaults = optionDefaults(table)
    expect(defaults).toEqual({ a: 1, b: undefined })
    expect(Object.isFrozen(defaults)).toBe(true)
  })

  it('picks the values a table declares, by its keys', () => {
    expect(pickOptions({ a: 2, b: 'x', c: true }, table)).toEqual({ a: 2, b: 'x' })
    expect(pickOptions({ a: 2 }, table)).toEqual({ a: 2 })
  })
})
