import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isProcessAlive } from '@net-server/core'
import { deadPid, liveProcess, tempDir } from '@net-server/test-support'
import { PidFile } from '../../src/pid-file.js'
import { RecordingServer } from '../support/recording-server.js'
import { start } from '../support/line-server.js'

function server (pidFile: string): RecordingServer {
  return new RecordingServer({ argv: false, handleSignals: false, logLevel: 0, pidFile })
}

describe('pid file', () => {
  it('is written after bind with this process id, and removed on close', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const s = server(pidFile)
    const { done } = await start(s)
    expect(s.pidFileSeen.get('bind')).toBe(false)
    expect(s.pidFileSeen.get('postBindHook')).toBe(false)
    expect(s.pidFileSeen.get('preLoopHook')).toBe(true)
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`)
    await s.close()
    await done
    expect(existsSync(pidFile)).toBe(false)
  })

  it('takes over a stale pid file that names a dead process', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const dead = await deadPid()
    expect(isProcessAlive(dead)).toBe(false)
    writeFileSync(pidFile, `${dead}\n`)
    const s = server(pidFile)
    await start(s)
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`)
    await s.close()
    expect(existsSync(pidFile)).toBe(false)
  })

  it('takes over a pid file that holds no pid', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    writeFileSync(pidFile, 'garbage\n')
    const s = server(pidFile)
    await start(s)
    expect(readFileSync(pidFile, 'utf8')).toBe(`${process.pid}\n`)
    await s.close()
  })

  it('is left alone on close when it now names another process', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const other = await liveProcess()
    const s = server(pidFile)
    await start(s)
    writeFileSync(pidFile, `${other.pid}\n`)
    await s.close()
    expect(readFileSync(pidFile, 'utf8')).toBe(`${other.pid}\n`)
  })

  it('is refused at write time when another live process took it after the check', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const other = await liveProcess()
    const file = new PidFile(pidFile)
    file.check()
    writeFileSync(pidFile, `${other.pid}\n`)
    expect(() => file.write()).toThrow(expect.objectContaining({ code: 'NSZ_ERR_PID_FILE_LOCKED' }))
    file.remove()
    expect(readFileSync(pidFile, 'utf8')).toBe(`${other.pid}\n`)
  })

  it('reads the pid back, undefined when there is no file', () => {
    const file = new PidFile(join(tempDir(), 'none.pid'))
    expect(file.read()).toBeUndefined()
    expect(isProcessAlive(process.pid)).toBe(true)
  })
})
