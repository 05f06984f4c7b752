/**
 * How `close()` tells whether the lifecycle itself awaits it: the lifecycle runs inside
 * an async function of a name of its own, and a caller looks for that name in its async
 * call stack.
 */

let lifecycleCount = 0

/**
 * Runs `lifecycle` inside an async function named uniquely for this run, so that
 * `close()` can find that name in its async call stack: a `close()` that the lifecycle
 * itself awaits must not wait for the lifecycle. (An `AsyncLocalStorage` would tell
 * the same, but on Node 20 it turns on async hooks for every promise of the process,
 * which costs a job server about a quarter of its throughput.)
 */
export function runNamed (lifecycle: () => Promise<void>): { name: string, done: Promise<void> } {
  const name = `netServerLifecycle${++lifecycleCount}`
  const named = { async [name] () { await lifecycle() } }[name]!
  return { name, done: named() }
}

/** True when an async function named `name` awaits the caller, directly or through a chain of awaits. */
export function awaitedBy (name: string): boolean {
  const { prepareStackTrace, stackTraceLimit } = Error
  const holder: { stack?: NodeJS.CallSite[] } = {}
  try {
    Error.stackTraceLimit = Infinity
    Error.prepareStackTrace = (_err, sites) => sites
    Error.captureStackTrace(holder, awaitedBy)
    return (holder.stack ?? []).some((site) => site.getFunctionName() === name)
  } finally {
    Error.prepareStackTrace = prepareStackTrace
    Error.stackTraceLimit = stackTraceLimit
  }
}
