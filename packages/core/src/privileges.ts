import { execFileSync } from 'node:child_process'
import { privilegesError } from './errors.js'

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
      process.setuid(target)
    }
  } catch (err) {
    throw privilegesError(`cannot switch to user '${user ?? ''}' group '${group ?? ''}': ${(err as Error).message} (only root can change its user)`, err)
  }
}
