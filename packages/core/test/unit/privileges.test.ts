/**
 * The checks a server makes before it drops privileges: whether the user it becomes
 * can reach its log file and remove its pid file and sockets on stop. The ids are
 * made up, so these need no such user; the directories are real, with real modes.
 */
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { skipRootOnly, tempDir } from '@net-server/test-support'
import { CoreErrorCode } from '../../src/errors.js'
import { checkReachable, checkRemovable, droppedIds, handOver, prepareFilesForDrop, type DroppedIds } from '../../src/privileges.js'

const notRoot = skipRootOnly('the checks of real users\' directories')
const ids: DroppedIds = { user: 'svc', uid: 54_321, gid: 54_322, groups: [54_322, 54_323] }

/** A directory of this mode, owned by `uid:gid`, inside a directory anyone may enter. */
function directory (mode: number, uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0): string {
  const top = tempDir('nsz-priv-')
  chmodSync(top, 0o755)
  const dir = join(top, 'd')
  mkdirSync(dir)
  if (process.getuid?.() === 0) chownSync(dir, uid, gid)
  chmodSync(dir, mode)
  return dir
}

describe('checkRemovable', () => {
  it.skipIf(notRoot)('accepts a directory the user owns, or writes through one of its groups or as anyone', () => {
    for (const dir of [directory(0o755, ids.uid, 0), directory(0o775, 0, 54_323), directory(0o1777), directory(0o777)]) {
      expect(() => { checkRemovable(join(dir, 'x.pid'), ids, 'pid file') }).not.toThrow()
    }
  })

  it.skipIf(notRoot)('refuses a directory the user may not write, naming it, its owner and mode, and the fix', () => {
    for (const [dir, mode] of [[directory(0o755), '0755'], [directory(0o575, ids.uid), '0575'], [directory(0o757, 0, ids.gid), '0757']] as const) {
      const file = join(dir, 'x.pid')
      expect(() => { checkRemovable(file, ids, 'pid file') }).toThrow(expect.objectContaining({
        code: CoreErrorCode.PRIVILEGES,
        message: expect.stringMatching(new RegExp(`^pid file ${file}: user 'svc', .* could not remove it on stop: directory ${dir} \\(owner uid \\d+, group \\d+, mode ${mode}\\) does not let that user write\\. Give the directory to the user \\(chown svc ${dir}; systemd: RuntimeDirectory=\\)`))
      }))
    }
  })

  it('refuses a writable directory the user cannot enter on the way', () => {
    const outer = directory(0o700)
    const inner = join(outer, 'run')
    mkdirSync(inner, { mode: 0o777 })
    chmodSync(inner, 0o777)
    expect(() => { checkRemovable(join(inner, 'x.sock'), ids, 'control socket') })
      .toThrow(expect.objectContaining({ code: CoreErrorCode.PRIVILEGES, message: expect.stringContaining(`control socket ${join(inner, 'x.sock')}: user 'svc' cannot reach it, as it may not enter directory ${outer}`) }))
  })
})

describe('checkReachable', () => {
  it('needs search permission on each directory above the file, not write permission', () => {
    const dir = directory(0o711)
    expect(() => { checkReachable(join(dir, 'nsz.log'), ids, 'log file') }).not.toThrow()
    chmodSync(dir, 0o700)
    expect(() => { checkReachable(join(dir, 'nsz.log'), ids, 'log file') }).toThrow(/log file .*nsz\.log: user 'svc' cannot reach it, as it may not enter directory .*mode 0700.*chmod o\+x/)
  })
})

describe('handOver and prepareFilesForDrop', () => {
  it.skipIf(notRoot)('hand the files over to the user and its group, skip files that are not there, and warn about a log directory it cannot write', () => {
    const run = directory(0o755, ids.uid)
    const logs = directory(0o755)
    const pid = join(run, 'x.pid')
    const log = join(logs, 'x.log')
    writeFileSync(pid, '1\n')
    writeFileSync(log, '')
    const warnings = prepareFilesForDrop(String(ids.uid), String(ids.gid), [[pid, 'pid file'], [join(run, 'gone.sock'), 'control socket']], [[log, 'log file']])
    for (const file of [pid, log]) expect(statSync(file)).toMatchObject({ uid: ids.uid, gid: ids.gid })
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^log file ${log}: user '${ids.uid}' may not create files in ${logs} .*rotate with copytruncate, or give the directory to the user \\(chown ${ids.uid} ${logs}\\)$`))])
    handOver([join(run, 'missing')], ids)
  })

  it('change nothing when the process keeps its user', () => {
    expect(droppedIds(undefined, undefined)).toBeUndefined()
    expect(droppedIds('0', undefined)).toBeUndefined()
    expect(prepareFilesForDrop(undefined, 'nogroup', [['/nonexistent/dir/x.pid', 'pid file']], [])).toEqual([])
  })

  it.skipIf(notRoot)('find the ids of a numeric user and group as they are', () => {
    expect(droppedIds('54321', '54322')).toEqual({ user: '54321', uid: 54_321, gid: 54_322, groups: [54_322] })
  })
})
