import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CoreErrorCode, NszError } from '@net-server/core'
import { liveProcess, tempDir } from '@net-server/test-support'
import { LineServer, type ResolvedLineOptions } from '../support/line-server.js'

/** Closes itself once it is ready: runs the whole startup, then returns. */
class Probe extends LineServer {
  protected override async preLoopHook (): Promise<void> {
    await this.close()
  }
}

type Opts = ConstructorParameters<typeof Probe>[0]
const quiet = { handleSignals: false, logLevel: 0 } as const

async function resolved (ctor: Opts, run?: Opts): Promise<ResolvedLineOptions> {
  const server = new Probe({ argv: false, ...quiet, ...ctor })
  await server.run(run)
  return server.options
}

describe('option precedence through run()', () => {
  // minServers: constructor 5 > command line 4 > run() 3 > conf file 2 > default 1
  // jobTimeout (seconds on the command line and in conf files): 500 > 400 > 300 > 200 > 30000 ms
  const sources = ['constructor', 'commandLine', 'run', 'confFile'] as const
  const subsets = Array.from({ length: 16 }, (_, mask) => sources.filter((_, i) => (mask & (1 << i)) !== 0))

  it.each(subsets.map((s) => [s.join(' + ') || 'defaults only', s] as const))('%s', async (_, present) => {
    const dir = tempDir()
    const confFile = join(dir, 'server.conf')
    writeFileSync(confFile, 'min_servers 2\njob_timeout 0.2\n')
    const has = (s: typeof sources[number]): boolean => present.includes(s)
    const ctor: Opts = { argv: has('commandLine') ? ['--min-servers', '4', '--job-timeout=0.4'] : [] }
    if (has('constructor')) Object.assign(ctor, { minServers: 5, jobTimeout: 500 })
    if (has('confFile')) ctor!.confFile = confFile
    const run: Opts = has('run') ? { minServers: 3, jobTimeout: 300 } : {}
    const o = await resolved(ctor, run)
    const top = present[0]
    expect(o.minServers).toBe(top === undefined ? 1 : { constructor: 5, commandLine: 4, run: 3, confFile: 2 }[top])
    expect(o.jobTimeout).toBe(top === undefined ? 30_000 : { constructor: 500, commandLine: 400, run: 300, confFile: 200 }[top])
  })

  it('reads the conf file named by the constructor over the command line over run()', async () => {
    const dir = tempDir()
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `${n}.conf`), `min_servers ${n}\n`)
    const c = (n: number): string => join(dir, `${n}.conf`)
    expect((await resolved({ confFile: c(1), argv: ['--conf-file', c(2)] }, { confFile: c(3) })).minServers).toBe(1)
    expect((await resolved({ argv: ['--conf-file', c(2)] }, { confFile: c(3) })).minServers).toBe(2)
    expect((await resolved({}, { confFile: c(3) })).minServers).toBe(3)
  })

  it('reads argv from run() when the constructor has none', async () => {
    expect((await resolved({ argv: undefined }, { argv: ['--min-servers=6'] })).minServers).toBe(6)
  })

  it('lets validateOptions check options together after all sources are merged', async () => {
    const server = new Probe({ argv: ['--max-servers', '2'], ...quiet }, undefined)
    await expect(server.run({ minServers: 3 })).rejects.toThrow(/options\.minServers \(3\) must not exceed options\.maxServers \(2\)/)
    expect(server.bindCalls).toBe(0)
  })
})

describe('bad options fail before anything is bound', () => {
  it.each<[string, Opts, Opts, new (...args: any[]) => Error, string | undefined, RegExp]>([
    ['a string for an integer', { logLevel: 'high' as never }, {}, TypeError, undefined, /^options\.logLevel must be an integer, got 'high'$/],
    ['a fraction for an integer', { logLevel: 2.5 as never }, {}, TypeError, undefined, /^options\.logLevel must be an integer, got 2\.5$/],
    ['a negative log level', { logLevel: -1 as never }, {}, RangeError, undefined, /^options\.logLevel must be an integer from 0 to 4, got -1$/],
    ['a log level out of range', { logLevel: 5 as never }, {}, RangeError, undefined, /^options\.logLevel must be an integer from 0 to 4, got 5$/],
    ['zero for a positive integer', { minServers: 0 }, {}, RangeError, undefined, /^options\.minServers must be a positive integer, got 0$/],
    ['a negative duration', { jobTimeout: -5 }, {}, RangeError, undefined, /^options\.jobTimeout must be at least 0 ms, got -5$/],
    ['a string duration', { jobTimeout: '5s' as never }, {}, TypeError, undefined, /^options\.jobTimeout must be a duration in milliseconds, got '5s'$/],
    ['a string for a boolean', { handleSignals: 'yes' as never }, {}, TypeError, undefined, /^options\.handleSignals must be a boolean, got 'yes'$/],
    ['a number for a path', { logFile: 42 as never }, {}, TypeError, undefined, /^options\.logFile must be a string, got 42$/],
    ['an empty pid file', { pidFile: '' }, {}, RangeError, undefined, /^options\.pidFile must not be empty$/],
    ['a number for a list', { allow: 5 as never }, {}, TypeError, undefined, /^options\.allow must be a string or an array of strings, got 5$/],
    ['a bad regular expression', { deny: ['[a-'] }, {}, RangeError, undefined, /^options\.deny must hold regular expressions, got '\[a-'$/],
    ['a CIDR prefix too long', { cidrAllow: ['10.0.0.0/33'] }, {}, RangeError, undefined, /^options\.cidrAllow must hold CIDR blocks .*got '10\.0\.0\.0\/33'$/],
    ['a CIDR without prefix bits', { cidrAllow: ['10.0.0.0/'] }, {}, RangeError, undefined, /^options\.cidrAllow must hold CIDR blocks/],
    ['an IPv6 CIDR prefix too long', { cidrDeny: ['::1/129'] }, {}, RangeError, undefined, /^options\.cidrDeny must hold CIDR blocks/],
    ['a host name as CIDR', { cidrDeny: ['localhost'] }, {}, RangeError, undefined, /^options\.cidrDeny must hold CIDR blocks/],
    ['a string for argv', { argv: 'x' as never }, {}, TypeError, undefined, /^options\.argv must be an array of strings or false, got 'x'$/],
    ['an unknown constructor option', { logLevl: 3 } as never, {}, NszError, CoreErrorCode.UNKNOWN_OPTION, /^unknown option 'logLevl' in the constructor options \(did you mean 'logLevel'\?\)$/],
    ['an unknown run() option', {}, { pidfile: '/tmp/x' } as never, NszError, CoreErrorCode.UNKNOWN_OPTION, /^unknown option 'pidfile' in the run\(\) options \(did you mean 'pidFile'\?\)$/],
    ['an unknown command-line option', { argv: ['--log-levle', '3'] }, {}, NszError, CoreErrorCode.COMMAND_LINE, /^command line: unknown option 'logLevle' in the command line \(did you mean 'logLevel'\?\)$/],
    ['a bad command-line value', { argv: ['--log-level', 'loud'] }, {}, TypeError, undefined, /^options\.logLevel must be a number, got 'loud'$/],
    ['a missing conf file', { confFile: '/nonexistent/nsz.conf' }, {}, NszError, CoreErrorCode.CONF_FILE, /^conf file \/nonexistent\/nsz\.conf: cannot be read \(ENOENT\): check options\.confFile$/],
    ['a user that does not exist', { user: 'nsz-no-such-user' }, {}, NszError, CoreErrorCode.PRIVILEGES, /^options\.user: no such user 'nsz-no-such-user'$/],
    ['a group that does not exist', { group: 'nsz-no-such-group' }, {}, NszError, CoreErrorCode.PRIVILEGES, /^options\.group: no such group 'nsz-no-such-group'$/],
    ['a pid file in a missing directory', { pidFile: '/nonexistent/dir/nsz.pid' }, {}, NszError, CoreErrorCode.PID_FILE, /^pid file \/nonexistent\/dir\/nsz\.pid: cannot be written/]
  ])('%s', async (_, ctor, run, type, code, message) => {
    const server = new Probe({ argv: false, ...quiet, ...ctor })
    let closed = false
    server.on('close', () => { closed = true })
    const error = await server.run(run).then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(type)
    expect((error as NszError).code).toBe(code)
    expect((error as Error).message).toMatch(message)
    expect(server.bindCalls).toBe(0)
    expect(closed).toBe(true)
  })

  it('an unreadable conf file (a directory)', async () => {
    const dir = tempDir()
    const server = new Probe({ argv: false, ...quiet, confFile: dir })
    await expect(server.run()).rejects.toMatchObject({
      code: CoreErrorCode.CONF_FILE, message: `conf file ${dir}: cannot be read (EISDIR): check options.confFile`
    })
    expect(server.bindCalls).toBe(0)
  })

  it('a conf file with a bad line, named with its line number', async () => {
    const confFile = join(tempDir(), 'bad.conf')
    writeFileSync(confFile, '# ok\nlog_level 1\ncidr_allow 10.0.0.0/8\nmax_servers -2\n')
    const server = new Probe({ argv: false, ...quiet, confFile })
    await expect(server.run()).rejects.toMatchObject({
      code: CoreErrorCode.CONF_FILE, message: `conf file ${confFile}: line 4: options.maxServers must be a positive integer, got -2`
    })
    expect(server.bindCalls).toBe(0)
  })

  it('a pid file that belongs to a live process', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'run'))
    const pidFile = join(dir, 'run', 'nsz.pid')
    const other = await liveProcess()
    writeFileSync(pidFile, `${other.pid}\n`)
    const server = new Probe({ argv: false, ...quiet, pidFile })
    await expect(server.run()).rejects.toMatchObject({
      code: CoreErrorCode.PID_FILE_LOCKED,
      message: `pid file ${pidFile} belongs to running process ${other.pid}: stop that server first, or choose another options.pidFile`
    })
    expect(server.bindCalls).toBe(0)
    expect(readFileSync(pidFile, 'utf8')).toBe(`${other.pid}\n`)
  })
})
