/**
 * A real unprivileged user for the tests of `--user`: `nobody`, or one made with
 * `useradd` (removed when the tests end). They need root, as CI has.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterAll } from 'vitest'
import { ROOT, skipRootOnly } from '@net-server/test-support'

/** A user of the passwd database. */
export interface TestUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

const MADE = 'nsz-test'

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
