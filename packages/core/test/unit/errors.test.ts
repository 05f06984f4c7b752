import { describe, expect, it } from 'vitest'
import { CoreErrorCode, NszError } from '@net-server/core'
import {
  alreadyRunningError, commandLineError, confFileError, pidFileError, pidFileLockedError, privilegesError, unknownOptionError
} from '../../src/errors.js'
import { errorTable } from '@net-server/test-support'

describe('docs/errors.md', () => {
  it('has one row per core code, and no core row without a code', () => {
    const core = errorTable().filter((r) => r.pkg === '@net-server/core')
    expect(core.map((r) => r.code).sort()).toEqual(Object.values(CoreErrorCode).sort())
    for (const r of core) expect(r.meaning.length).toBeGreaterThan(20)
  })

  it('lists each code once across all packages', () => {
    const codes = errorTable().map((r) => r.code)
    expect(new Set(codes).size).toBe(codes.length)
  })
})

describe('error factories', () => {
  it.each([
    [unknownOptionError('minServer', 'the conf file', ['minServers', 'maxServers']), CoreErrorCode.UNKNOWN_OPTION, "unknown option 'minServer' in the conf file (did you mean 'minServers'?)"],
    [confFileError('/etc/x.conf', 'line 2: bad'), CoreErrorCode.CONF_FILE, 'conf file /etc/x.conf: line 2: bad'],
    [commandLineError('option --x needs a value'), CoreErrorCode.COMMAND_LINE, 'command line: option --x needs a value'],
    [pidFileLockedError('/run/x.pid', 42), CoreErrorCode.PID_FILE_LOCKED, 'pid file /run/x.pid belongs to running process 42: stop that server first, or choose another options.pidFile'],
    [pidFileError('/run/x.pid', 'cannot be read'), CoreErrorCode.PID_FILE, 'pid file /run/x.pid: cannot be read'],
    [privilegesError("options.user: no such user 'x'"), CoreErrorCode.PRIVILEGES, "options.user: no such user 'x'"],
    [alreadyRunningError(), CoreErrorCode.ALREADY_RUNNING, 'run() was called twice on the same server']
  ])('%s', (error, code, message) => {
    expect(error).toBeInstanceOf(NszError)
    expect(error.name).toBe('NszError')
    expect(error.code).toBe(code)
    expect(error.message).toBe(message)
  })

  it('keeps the cause', () => {
    const cause = Object.assign(new Error('EACCES'), { code: 'EACCES' })
    expect(pidFileError('/x', 'cannot be written', cause).cause).toBe(cause)
  })
})
