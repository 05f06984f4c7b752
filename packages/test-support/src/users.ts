/**
 * A real unprivileged user and group for the tests of `--user` and `--group`:
 * `nobody`, or one made with `useradd`, and `users`, or one made with `groupadd`
 * (removed when the tests end). They need root, as CI has.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterAll, expect } from 'vitest'
import { procIds } from './pids.js'
import { ROOT } from './process.js'
import { skipRootOnly } from './root.js'

/** A user of the passwd database. */
export interface TestUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/** A group of the group database. */
export interface TestGroup {
  readonly name: string
  readonly gid: number
}

const MADE = 'nsz-test'
const MADE_GROUP = 'nsz-test-group'

function passwd (name: string): TestUser | undefined {
  const found = spawnSync('getent', ['passwd', name], { encoding: 'utf8' })
  if (found.status !== 0) return undefined
  const [, , uid, gid] = found.stdout.trim().split(':')
  return { name, uid: Number(uid), gid: Number(gid) }
}

/**
 * The user to drop to, or `undefined` with a warning that says why the tests skip:
 * not root, or neither `nobody` nor a user made with `useradd` is there. With
 * `NSZ_REQUIRE_ROOT=1` a skip is a failure: not as root, a failing test says so;
 * as root with no user to drop to, this throws.
 */
export function unprivilegedUser (): TestUser | undefined {
  if (skipRootOnly('--user tests')) return undefined
  if (process.getuid?.() !== 0) return FAILING
  const user = findUser()
  if (user === undefined && process.env.NSZ_REQUIRE_ROOT === '1') throw new Error('--user tests: no user nobody and useradd failed, and NSZ_REQUIRE_ROOT=1 demands them')
  return user
}

/** What the tests run with when they must fail: a user this process cannot become. */
const FAILING: TestUser = { name: 'nobody', uid: 65_534, gid: 65_534 }

function group (name: string): TestGroup | undefined {
  const found = spawnSync('getent', ['group', name], { encoding: 'utf8' })
  if (found.status !== 0) return undefined
  return { name, gid: Number(found.stdout.trim().split(':')[2]) }
}

/**
 * A group for `--group` that is neither root's nor `user`'s own: `users`, or one made
 * with `groupadd` (removed when the tests end). Call it once `unprivilegedUser` gave a
 * user; it throws when there is none to be had.
 */
export function otherGroup (user: TestUser): TestGroup {
  const users = group('users')
  if (users !== undefined && users.gid !== 0 && users.gid !== user.gid) return users
  if (process.getuid?.() !== 0) return { name: 'users', gid: 100 }
  const existing = group(MADE_GROUP)
  if (existing !== undefined) return existing
  execFileSync('groupadd', ['--system', MADE_GROUP], { stdio: 'ignore' })
  afterAll(() => { spawnSync('groupdel', [MADE_GROUP], { stdio: 'ignore' }) })
  const made = group(MADE_GROUP)
  if (made === undefined) throw new Error(`groupadd ${MADE_GROUP} made no group`)
  return made
}

function findUser (): TestUser | undefined {
  const nobody = passwd('nobody')
  if (nobody !== undefined && nobody.uid !== 0) return nobody
  const existing = passwd(MADE)
  if (existing !== undefined) return existing
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', MADE], { stdio: 'ignore' })
  } catch (err) {
    console.warn(`--user tests skipped: no user nobody, and useradd ${MADE} failed (${(err as Error).message})`)
    return undefined
  }
  afterAll(() => { spawnSync('userdel', [MADE], { stdio: 'ignore' }) })
  return passwd(MADE)
}

/**
 * Lets `user` reach the checkout, whose built code its processes run: a directory on
 * the way that others cannot enter (a clone in a `mktemp -d` directory is mode 0700)
 * gets the execute bit for others until the tests end, then its mode back.
 */
export function letUserReachCheckout (user: TestUser): void {
  const changed: Array<[string, number]> = []
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const { mode, uid } = statSync(dir)
    if (uid !== user.uid && (mode & 0o001) === 0) {
      changed.push([dir, mode & 0o7777])
      chmodSync(dir, (mode & 0o7777) | 0o001)
    }
    if (dirname(dir) === dir) break
  }
  afterAll(() => { for (const [dir, mode] of changed) chmodSync(dir, mode) })
}

/**
 * Expects process `pid` to run as `uid` and `gid` (its real, effective, saved and
 * filesystem ids, from `/proc/<pid>/status`), with `gid` among its groups and none of
 * root's: what a privilege drop must leave.
 */
export function expectRunsAs (pid: number, uid: number, gid: number): void {
  const ids = procIds(pid)
  expect(ids.uid, `uids of ${pid}`).toEqual([uid, uid, uid, uid])
  expect(ids.gid, `gids of ${pid}`).toEqual([gid, gid, gid, gid])
  expect(ids.groups, `groups of ${pid}`).toContain(gid)
  expect(ids.groups, `groups of ${pid}`).not.toContain(0)
}
