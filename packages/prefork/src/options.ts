import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  duration, integer, serverOptionSpecs, string,
  type OptionSpecs, type Options, type ResolvedServerOptions
} from '@net-server/core'

/**
 * Options of a preforking server, after resolution. Durations are milliseconds in
 * code and seconds (fractions allowed) on the command line and in conf files.
 */
export interface ResolvedPreForkOptions extends ResolvedServerOptions {
  /** Net::Server::PreFork `min_servers`: children to keep running at least. */
  readonly minServers: number
  /** Net::Server::PreFork `max_servers`: children to run at most. */
  readonly maxServers: number
  /** Net::Server::PreFork `min_spare_servers`: idle children to keep ready, up to `maxServers`. */
  readonly minSpareServers: number
  /** Net::Server::PreFork `max_spare_servers`: idle children above this are stopped, down to `minServers`. */
  readonly maxSpareServers: number
  /**
   * Grow the pool by one child when a request has waited this long for one (ms),
   * within `maxServers`; 0, the default, never. For personalities with a queue (`ZmqServer`).
   */
  readonly scaleUpWait: number
  /** After a growth for waiting requests, none again for this long (ms): the new child gets time to boot and take work. */
  readonly scaleUpCooldown: number
  /** Net::Server::PreFork `max_requests`: a child retires after this many requests; 0 never. */
  readonly maxRequests: number
  /** gunicorn's `max_requests_jitter`: each child adds a random 0…jitter to `maxRequests`, so children do not retire together. */
  readonly maxRequestsJitter: number
  /** Net::Server::PreFork `check_for_dead`: how often the parent checks that its children still exist. */
  readonly checkForDead: number
  /** Net::Server::PreFork `check_for_waiting`: how often the parent looks for surplus idle children to stop. */
  readonly checkForWaiting: number
  /** Net::Server::PreFork `check_for_spawn`: how often the parent re-checks the pool when nothing else happened. */
  readonly checkForSpawn: number
  /** Net::Server::PreFork `min_child_ttl`: no idle child is stopped for spareness until this long after the last spawn. */
  readonly minChildTtl: number
  /** A child that has not reported ready this long after its spawn is killed and counts as a boot failure. */
  readonly childStartTimeout: number
  /** How long a child may take to finish its work once told to stop; then it is killed (SIGKILL). */
  readonly gracefulTimeout: number
  /** The module children run; by default the parent's entry module (`process.argv[1]`). */
  readonly workerModule: string | undefined
  /** Boot failures in a row after which the pool reports a crash loop (and a starting `run()` rejects). */
  readonly bootFailureLimit: number
  /** The respawn delay after the first boot failure; it doubles with each further failure in a row. */
  readonly bootBackoffBase: number
  /** The longest respawn delay after boot failures. */
  readonly bootBackoffMax: number
}

/** Options of a preforking server, as a user passes them. */
export type PreForkOptions = Options<ResolvedPreForkOptions>

/**
 * Option declarations of `PreForkServer`: core's plus the pool's. Defaults follow
 * Net::Server::PreFork where it has one, and are valid together (see docs/prefork.md).
 */
export function preForkOptionSpecs (): OptionSpecs {
  // gracefulTimeout is listed last among the Jobs flags, after a personality's own.
  return {
    ...serverOptionSpecs(),
    minServers: integer({ description: 'children to keep running at least', default: 5, min: 0, group: 'Workers' }),
    maxServers: integer({ description: 'children to run at most (0: a broker with no children of its own, for remote pools)', default: 50, min: 0, group: 'Workers' }),
    minSpareServers: integer({ description: 'idle children to keep ready', default: 2, min: 0, group: 'Workers' }),
    maxSpareServers: integer({ description: 'idle children above which extra ones are stopped', default: 10, min: 0, group: 'Workers' }),
    scaleUpWait: duration({ description: 'seconds a request may wait for a child before the pool grows by one (0: never)', default: 0, group: 'Workers' }),
    scaleUpCooldown: duration({ description: 'seconds after a growth for waiting requests before the next one', default: 5000, group: 'Workers' }),
    maxRequests: integer({ description: 'requests a child serves before it is replaced (0: no limit)', default: 1000, min: 0, group: 'Workers' }),
    maxRequestsJitter: integer({ description: 'random extra requests per child, so children do not retire together', default: 0, min: 0, group: 'Workers' }),
    checkForDead: duration({ description: 'seconds between checks that every child still exists', default: 30_000, min: 1, group: 'Supervision' }),
    checkForWaiting: duration({ description: 'seconds between checks for surplus idle children', default: 10_000, min: 1, group: 'Supervision' }),
    checkForSpawn: duration({ description: 'seconds between checks for missing children', default: 30_000, min: 1, group: 'Supervision' }),
    minChildTtl: duration({ description: 'seconds after the last spawn before an idle child may be stopped', default: 10_000, group: 'Supervision' }),
    childStartTimeout: duration({ description: 'seconds a child may take to report ready', default: 30_000, min: 1, group: 'Supervision' }),
    gracefulTimeout: duration({ description: 'seconds a stopping child may take to finish its work', default: 30_000, group: 'Jobs', order: 1 }),
    workerModule: string<string | undefined>({ description: 'module the children run (default: the entry module)', default: undefined, nonEmpty: true, group: 'Workers', placeholder: '<file>' }),
    bootFailureLimit: integer({ description: 'boot failures in a row that make a crash loop', default: 5, min: 1, group: 'Supervision' }),
    bootBackoffBase: duration({ description: 'seconds before the first respawn after a boot failure', default: 500, group: 'Supervision' }),
    bootBackoffMax: duration({ description: 'longest respawn delay after boot failures, in seconds', default: 30_000, group: 'Supervision' })
  }
}

/**
 * Checks between options; each error names the options and the way out.
 * `PreForkServer.validateOptions` calls it.
 */
export function validatePreForkOptions (o: ResolvedPreForkOptions): void {
  if (o.minServers > o.maxServers) {
    throw new RangeError(`options.minServers (${o.minServers}) must not exceed options.maxServers (${o.maxServers}): raise maxServers or lower minServers`)
  }
  if (o.minSpareServers > o.maxSpareServers) {
    throw new RangeError(`options.minSpareServers (${o.minSpareServers}) must not exceed options.maxSpareServers (${o.maxSpareServers}): raise maxSpareServers or lower minSpareServers`)
  }
  if (o.bootBackoffBase > o.bootBackoffMax) {
    throw new RangeError(`options.bootBackoffBase (${o.bootBackoffBase} ms) must not exceed options.bootBackoffMax (${o.bootBackoffMax} ms): raise bootBackoffMax or lower bootBackoffBase`)
  }
  if (o.workerModule !== undefined && !existsSync(resolve(o.workerModule))) {
    throw new RangeError(`options.workerModule: no file '${o.workerModule}' (resolved to ${resolve(o.workerModule)}): give the path of the script children run`)
  }
}
