/**
 * The options every server has, declared once in {@link serverOptionSpecs}, and the
 * `Options<R>` shape a user passes for any server class.
 */
import { checkCidr, checkPattern } from './access.js'
import type { LogLevel } from './logger.js'
import { boolean, custom, describe, integer, string, stringList, type OptionSpecs } from './options.js'

/** Options of every server, after resolution. */
export interface ResolvedServerOptions {
  /** Net::Server `log_level`: 0 error … 4 debug. */
  readonly logLevel: LogLevel
  /** Net::Server `log_file`: append here instead of standard error. */
  readonly logFile: string | undefined
  /** Net::Server `pid_file`: written after bind, removed on close. */
  readonly pidFile: string | undefined
  /** Net::Server `user`: switch to this user after bind (root only). */
  readonly user: string | undefined
  /** Net::Server `group`: switch to this group after bind (root only). */
  readonly group: string | undefined
  /** Net::Server `conf_file`: `key value` lines read as the lowest-precedence source. */
  readonly confFile: string | undefined
  /** Net::Server `allow`: regular expressions for peer addresses or host names. */
  readonly allow: readonly string[]
  /** Net::Server `deny`: regular expressions that refuse a peer. */
  readonly deny: readonly string[]
  /** Net::Server `cidr_allow`: CIDR blocks that admit a peer. */
  readonly cidrAllow: readonly string[]
  /** Net::Server `cidr_deny`: CIDR blocks that refuse a peer. */
  readonly cidrDeny: readonly string[]
  /** Install the signal handlers (TERM, INT, USR1, and the personality's). */
  readonly handleSignals: boolean
  /**
   * The command line to read options from; Net::Server reads `@ARGV`, so the
   * default is `process.argv.slice(2)`. `false` reads none. Only the constructor
   * and `run()` can set it.
   */
  readonly argv: readonly string[] | false
}

/** What a user passes: any subset of the resolved options. */
export type Options<R> = { -readonly [K in keyof R]?: R[K] }

/** Options of every server, as a user passes them. */
export type ServerOptions = Options<ResolvedServerOptions>

/** Option declarations of `Server`; personalities spread these and add theirs. */
export function serverOptionSpecs (): OptionSpecs {
  return {
    logLevel: integer({ description: 'log level: 0 error, 1 warning, 2 notice, 3 info, 4 debug', default: 2, min: 0, max: 4, group: 'Process', placeholder: '<0-4>' }),
    logFile: string<string | undefined>({ description: 'log to this file instead of standard error', default: undefined, nonEmpty: true, group: 'Process', placeholder: '<file>' }),
    pidFile: string<string | undefined>({ description: 'write the server pid here after bind', default: undefined, nonEmpty: true, group: 'Process', placeholder: '<file>' }),
    confFile: string<string | undefined>({ description: 'read options from this file (key value lines)', default: undefined, nonEmpty: true, group: 'Process', placeholder: '<file>' }),
    user: string<string | undefined>({ description: 'user to switch to after bind (root only)', default: undefined, nonEmpty: true, group: 'Process', placeholder: '<name>' }),
    group: string<string | undefined>({ description: 'group to switch to after bind (root only)', default: undefined, nonEmpty: true, group: 'Process', placeholder: '<name>' }),
    allow: stringList({ description: 'peer address or host name patterns to admit', default: [], item: checkPattern, split: false, group: 'Access', placeholder: '<pattern>' }),
    deny: stringList({ description: 'peer address or host name patterns to refuse', default: [], item: checkPattern, split: false, group: 'Access', placeholder: '<pattern>' }),
    cidrAllow: stringList({ description: 'CIDR blocks to admit', default: [], item: checkCidr, group: 'Access', placeholder: '<cidr>' }),
    cidrDeny: stringList({ description: 'CIDR blocks to refuse', default: [], item: checkCidr, group: 'Access', placeholder: '<cidr>' }),
    handleSignals: boolean({ description: 'install signal handlers', default: true, flag: false }),
    argv: custom<readonly string[] | false>({
      description: 'command line to read options from',
      default: process.argv.slice(2),
      check: (value, name) => {
        if (value === false) return false
        if (!Array.isArray(value) || value.some((a) => typeof a !== 'string')) {
          throw new TypeError(`options.${name} must be an array of strings or false, got ${describe(value)}`)
        }
        return Object.freeze([...value as string[]])
      }
    })
  }
}
