import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CLOCK, LOGGER, LOG_LEVEL_NAMES, PinoLogger, createContainer, registerDefault, systemClock, type LogLevel, type Logger
} from '@net-server/core'
// After core, which loads the reflect-metadata polyfill that tsyringe needs.
import { container as globalContainer } from 'tsyringe'
import { tempDir } from '@net-server/test-support'
import { LineServer, start } from '../support/line-server.js'
import { startFixture } from '../support/fixture.js'

class MemoryLogger implements Logger {
  readonly lines: Array<[LogLevel, string]> = []
  closed = 0
  write (level: LogLevel, message: string): void {
    this.lines.push([level, message])
  }

  close (): void {
    this.closed++
  }
}

function jsonLines (file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('logging', () => {
  it.each([0, 1, 2, 3, 4] as const)('logLevel %i writes the levels up to it and no more', async (logLevel) => {
    const c = createContainer()
    const logger = new MemoryLogger()
    c.register(LOGGER, { useValue: logger })
    const server = new LineServer({ argv: false, handleSignals: false, logLevel }, c)
    await start(server)
    for (const level of [0, 1, 2, 3, 4] as const) {
      server.log(level, `message ${level}`)
      expect(server.isLogging(level)).toBe(level <= logLevel)
    }
    await server.close()
    const mine = logger.lines.filter(([, m]) => m.startsWith('message '))
    expect(mine).toEqual([0, 1, 2, 3, 4].filter((l) => l <= logLevel).map((l) => [l, `message ${l}`]))
    expect(logger.closed).toBe(1)
  })

  it('writes JSON lines with level names to logFile', async () => {
    const logFile = join(tempDir(), 'logs', 'server.log')
    const server = new LineServer({ argv: false, handleSignals: false, logLevel: 4, logFile })
    await start(server)
    for (const level of [0, 1, 2, 3, 4] as const) server.log(level, `line ${level}`, { n: level })
    await server.close()
    const records = jsonLines(logFile)
    const mine = records.filter((r) => String(r.msg).startsWith('line '))
    expect(mine.map((r) => [r.level, r.msg, r.n])).toEqual(LOG_LEVEL_NAMES.map((name, i) => [name, `line ${i}`, i]))
    for (const r of records) expect(r).toMatchObject({ pid: process.pid, time: expect.any(String) })
    expect(records.map((r) => r.msg)).toEqual(expect.arrayContaining(['LineServer started', 'LineServer stopped']))
    expect(records.find((r) => r.msg === 'LineServer started')).toMatchObject({ level: 'notice', endpoints: [expect.stringMatching(/^tcp:/)] })
  })

  it('reopenLog() sends new lines to a fresh file after the old one was renamed', async () => {
    const logFile = join(tempDir(), 'server.log')
    const server = new LineServer({ argv: false, handleSignals: false, logLevel: 2, logFile })
    await start(server)
    server.log(2, 'before rotation')
    renameSync(logFile, `${logFile}.1`)
    server.reopenLog()
    server.log(2, 'after rotation')
    await server.close()
    const old = jsonLines(`${logFile}.1`).map((r) => r.msg)
    const fresh = jsonLines(logFile).map((r) => r.msg)
    expect(old).toContain('before rotation')
    expect(old).not.toContain('after rotation')
    expect(fresh).toEqual(['log reopened', 'after rotation', 'LineServer stopped'])
  })

  it('reopenLog() that cannot open a new file warns in the old one and keeps logging there', async () => {
    const dir = tempDir()
    const logFile = join(dir, 'logs', 'server.log')
    const server = new LineServer({ argv: false, handleSignals: false, logLevel: 2, logFile })
    await start(server)
    // Its directory moved away, and a plain file where it was: no new log file can be made there.
    renameSync(join(dir, 'logs'), join(dir, 'old'))
    writeFileSync(join(dir, 'logs'), '')
    server.reopenLog()
    server.log(2, 'after the failed reopen')
    // A failed reopen of pino's destination would end the process with an 'error' event on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    await server.close()
    const records = jsonLines(join(dir, 'old', 'server.log'))
    expect(records.map((r) => r.msg)).toEqual([
      'LineServer started',
      expect.stringMatching(new RegExp(`^cannot reopen the log file ${logFile}: E[A-Z]+: .*; logging goes on to the file that was open$`)),
      'after the failed reopen',
      'LineServer stopped'
    ])
    expect(records[1]).toMatchObject({ level: 'warn' })
  })

  it('lines logged after close go to standard error, not to the closed file', async () => {
    const logFile = join(tempDir(), 'server.log')
    const server = new LineServer({ argv: false, handleSignals: false, logLevel: 2, logFile })
    await start(server)
    await server.close()
    expect(() => server.log(0, 'a late line after close')).not.toThrow()
    expect(jsonLines(logFile).map((r) => r.msg)).toEqual(['LineServer started', 'LineServer stopped'])
  })

  it('USR1 makes a real server process reopen its log file', async () => {
    const logFile = join(tempDir(), 'server.log')
    const fixture = startFixture(['--log-file', logFile, '--log-level', '2'])
    await fixture.take('listening')
    renameSync(logFile, `${logFile}.1`)
    fixture.signal('SIGUSR1')
    await fixture.take('reopened')
    fixture.signal('SIGTERM')
    expect(await fixture.closed).toEqual({ code: 0, signal: null })
    expect(jsonLines(`${logFile}.1`).map((r) => r.msg)).toEqual(['FixtureServer started'])
    expect(jsonLines(logFile).map((r) => r.msg)).toEqual(['log reopened', 'FixtureServer stopped'])
  })

  it('PinoLogger writes every level it is given, with notice between info and warn', () => {
    const file = join(tempDir(), 'direct.log')
    const logger = new PinoLogger({ file, base: { role: 'broker' } })
    logger.write(2, 'hello', { a: 1 })
    logger.write(4, 'debug line')
    logger.close()
    expect(jsonLines(file)).toEqual([
      expect.objectContaining({ level: 'notice', msg: 'hello', a: 1, role: 'broker' }),
      expect.objectContaining({ level: 'debug', msg: 'debug line' })
    ])
  })
})

describe('dependency injection', () => {
  it('createContainer() makes a child container and never touches the global one', () => {
    const c = createContainer()
    expect(c).not.toBe(globalContainer)
    c.register(LOGGER, { useValue: new MemoryLogger() })
    expect(c.isRegistered(LOGGER)).toBe(true)
    expect(globalContainer.isRegistered(LOGGER, true)).toBe(false)
    expect(globalContainer.isRegistered(CLOCK, true)).toBe(false)
    expect(c.resolve(CLOCK)).toBe(systemClock)
  })

  it('each server without a container gets its own', () => {
    const a = new LineServer({ argv: false })
    const b = new LineServer({ argv: false })
    expect(a.di).not.toBe(b.di)
    expect(a.di).not.toBe(globalContainer)
  })

  it('registerDefault keeps what the user registered and builds a default once', () => {
    const c = createContainer()
    const mine = new MemoryLogger()
    c.register(LOGGER, { useValue: mine })
    registerDefault(c, LOGGER, () => new MemoryLogger())
    expect(c.resolve(LOGGER)).toBe(mine)
    const token = Symbol('thing')
    let made = 0
    registerDefault(c, token, () => ({ n: ++made }))
    expect(c.resolve(token)).toBe(c.resolve(token))
    expect(made).toBe(1)
  })

  it('a server uses a logger registered in a parent of its container', async () => {
    const parent = createContainer()
    const logger = new MemoryLogger()
    parent.register(LOGGER, { useValue: logger })
    const server = new LineServer({ argv: false, handleSignals: false, logLevel: 2 }, parent.createChildContainer())
    await start(server)
    server.log(2, 'to the registered logger')
    await server.close()
    expect(logger.lines.map(([, m]) => m)).toEqual(['LineServer started', 'to the registered logger', 'LineServer stopped'])
  })
})
