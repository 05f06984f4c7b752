import { NszError } from '@net-server/core'

/** Codes of `@net-server/prefork`; `docs/errors.md` lists each. */
export const PreForkErrorCode = {
  CRASH_LOOP: 'NSZ_ERR_CRASH_LOOP',
  NOT_A_CHILD: 'NSZ_ERR_NOT_A_CHILD'
} as const

/**
 * Children failed to boot `limit` times in a row (they exited, were killed, or did
 * not report ready within `childStartTimeout` before taking work). `run()` rejects
 * with it while the pool is starting; later it is the `error` event.
 */
export function crashLoopError (limit: number, last: string): NszError {
  return new NszError(PreForkErrorCode.CRASH_LOOP,
    `children failed to boot ${limit} times in a row (last: ${last}): check the child's log and the module it runs (options.workerModule), or raise options.bootFailureLimit`)
}

/** A child-only call (`runChild`, `reportReady`) was made in the parent, or the child lost its IPC channel. */
export function notAChildError (what: string): NszError {
  return new NszError(PreForkErrorCode.NOT_A_CHILD, `${what} runs only in a child process that a PreForkServer started`)
}
