import { execFileSync } from 'node:child_process'
import { chownSync, statSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { privilegesError } from './errors.js'
import type { NamedFile } from './pid-file.js'

/** A user or group, by name or numeric id. */
export type Principal = string | number

function lookup (database: 'passwd' | 'group', key: string): string[] | undefined {
  try {
    const line = execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return line.trim().split(':')
  } catch {
    return undefined
  }
}

/** The primary group id of `user` (a name or a numeric id), from the passwd database. */
function primaryGroup (user: string): string | undefined {
  return lookup('passwd', user)?.[3]
}

/** Throws an `NSZ_ERR_PRIVILEGES` error unless the user and group exist. Numeric ids are taken as they are. */
export function checkPrincipals (user: string | undefined, group: string | undefined): void {
  if (user !== undefined && !/^\d+$/.test(user) && lookup('passwd', user) === undefined) {
    throw privilegesError(`options.user: no such user '${user}'`)
  }
  if (group !== undefined && !/^\d+$/.test(group) && lookup('group', group) === undefined) {
    throw privilegesError(`options.group: no such group '${group}'`)
  }
}

/**
 * Drops privileges after bind, as Net::Server does: the group first (with the
 * supplementary groups of the user), then the user. When root gives only `user`,
 * the group is that user's primary group, so that no root group is kept. A no-op
 * for values that match the current ids.
 */
export function dropPrivileges (user: string | undefined, group: string | undefined): void {
  if (process.setgid === undefined || process.setuid === undefined) {
    if (user !== undefined || group !== undefined) throw privilegesError('options.user and options.group need a POSIX platform')
    return
  }
  // A root process that switches only its user would keep group 0: take the user's own group.
  const gid = group ?? (user !== undefined && process.getuid?.() === 0 ? primaryGroup(user) : undefined)
  try {
    if (gid !== undefined) {
      process.setgid(/^\d+$/.test(gid) ? Number(gid) : gid)
    }
    if (user !== undefined) {
      const target = /^\d+$/.test(user) ? Number(user) : user
      if (process.getuid?.() === 0 && typeof target === 'string') {
        // Supplementary groups of the target user, as login would set them.
        const initgroups = (process as { initgroups?: (user: string, extraGroup: number) => void }).initgroups
        initgroups?.(target, process.getgid?.() ?? 0)
      }
      // A numeric user has no name to look its groups up by: keep none of root's.
      if (process.getuid?.() === 0 && typeof target === 'number') process.setgroups?.([process.getgid?.() ?? target])
      process.setuid(target)
    }
  } catch (err) {
    throw privilegesError(`cannot switch to user '${user ?? ''}' group '${group ?? ''}': ${(err as Error).message} (only root can change its user)`, err)
  }
}

/** The ids a process has once {@link dropPrivileges} has switched it: what it may do with files. */
export interface DroppedIds {
  /** `user` as given, for messages. */
  readonly user: string
  readonly uid: number
  readonly gid: number
  /** The group and the supplementary groups. */
  readonly groups: readonly number[]
}

function idOf (database: 'passwd' | 'group', key: string): number | undefined {
  if (/^\d+$/.test(key)) return Number(key)
  const id = lookup(database, key)?.[2]
  return id === undefined ? undefined : Number(id)
}

/** The groups `initgroups(user)` gives, as `id -G` lists them; none when it cannot tell. */
function groupsOf (user: string): number[] {
  try {
    return execFileSync('id', ['-G', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(/\s+/).map(Number)
  } catch {
    return []
  }
}

/**
 * The ids that {@link dropPrivileges} with the same arguments switches a root process
 * to, or `undefined` when the process keeps its user (no `user`, not root, or `user`
 * is root itself): then it keeps every right it had at start.
 */
export function droppedIds (user: string | undefined, group: string | undefined): DroppedIds | undefined {
  if (user === undefined || process.getuid?.() !== 0) return undefined
  const uid = idOf('passwd', user)
  if (uid === undefined || uid === 0) return undefined
  const gid = (group === undefined ? undefined : idOf('group', group)) ??
    (primaryGroup(user) === undefined ? undefined : Number(primaryGroup(user))) ?? process.getgid?.() ?? 0
  const named = /^\d+$/.test(user) ? [] : groupsOf(user)
  return { user, uid, gid, groups: [...new Set([gid, ...named])] }
}

/** Whether `ids` have all of `bits` (a mask of r=4, w=2, x=1) on a file of this stat. */
function permits (stat: Stats, ids: DroppedIds, bits: number): boolean {
  const shift = stat.uid === ids.uid ? 6 : ids.groups.includes(stat.gid) ? 3 : 0
  return ((stat.mode >> shift) & bits) === bits
}

function described (path: string, stat: Stats): string {
  return `${path} (owner uid ${stat.uid}, group ${stat.gid}, mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')})`
}

/**
 * Throws `NSZ_ERR_PRIVILEGES` unless `ids` can reach `file`: search permission on every
 * directory above it. `what` names the file in the message (`log file`).
 */
export function checkReachable (file: string, ids: DroppedIds, what: string): void {
  let dir = dirname(resolve(file))
  const above: string[] = []
  for (;;) {
    above.unshift(dir)
    if (dirname(dir) === dir) break
    dir = dirname(dir)
  }
  for (const each of above) {
    const stat = statSync(each, { throwIfNoEntry: false })
    if (stat !== undefined && !permits(stat, ids, 0o1)) {
      throw privilegesError(`${what} ${file}: user '${ids.user}' cannot reach it, as it may not enter directory ${described(each, stat)}: ` +
        `give that user access (chmod o+x ${each}, or a group it is in) or choose a ${what} elsewhere`)
    }
  }
}

/**
 * Throws `NSZ_ERR_PRIVILEGES` unless `ids` can remove `file` when the server stops
 * (after the drop): it must reach the file's directory and write there. `what` names
 * the file in the message (`pid file`).
 */
export function checkRemovable (file: string, ids: DroppedIds, what: string): void {
  checkReachable(file, ids, what)
  const dir = dirname(resolve(file))
  const stat = statSync(dir, { throwIfNoEntry: false })
  if (stat !== undefined && !permits(stat, ids, 0o3)) {
    throw privilegesError(`${what} ${file}: user '${ids.user}', which the server runs as once it has dropped privileges, could not remove it on stop: ` +
      `directory ${described(dir, stat)} does not let that user write. Give the directory to the user (chown ${ids.user} ${dir}; ` +
      `systemd: RuntimeDirectory=) or choose a ${what} in a directory it can write`)
  }
}

/**
 * Hands `files` over to `ids` before the drop (chown to their user and group), so that
 * the server and its children can still write and remove them, as Net::Server does
 * with its pid file, unix sockets and log file. Files that do not exist are skipped.
 */
export function handOver (files: readonly string[], ids: DroppedIds): void {
  for (const file of files) {
    try {
      chownSync(file, ids.uid, ids.gid)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw privilegesError(`cannot hand ${file} over to user '${ids.user}': ${(err as Error).message}`, err)
    }
  }
}

/**
 * Readies files for the privilege drop, in `postBind` before {@link dropPrivileges}:
 * when the process will switch users, checks that the user can remove each of
 * `removable` on stop and reach each of `opened`, then hands them all over to it
 * ({@link handOver}). Throws `NSZ_ERR_PRIVILEGES` with the fix when it cannot.
 * Returns warnings to log: an `opened` file in a directory where the user cannot
 * create it again once it has been moved away (log rotation).
 */
export function prepareFilesForDrop (user: string | undefined, group: string | undefined, removable: readonly NamedFile[], opened: readonly NamedFile[]): string[] {
  const ids = droppedIds(user, group)
  if (ids === undefined) return []
  for (const [path, what] of removable) checkRemovable(path, ids, what)
  const warnings: string[] = []
  for (const [path, what] of opened) {
    checkReachable(path, ids, what)
    const dir = dirname(resolve(path))
    const stat = statSync(dir, { throwIfNoEntry: false })
    if (stat !== undefined && !permits(stat, ids, 0o3)) {
      warnings.push(`${what} ${path}: user '${ids.user}' may not create files in ${described(dir, stat)}, so once the file is moved away ` +
        `(rotation, then USR1) the server cannot open a new one: rotate with copytruncate, or give the directory to the user (chown ${ids.user} ${dir})`)
    }
  }
  handOver([...removable, ...opened].map(([path]) => path), ids)
  return warnings
}
