/** A promise with its `resolve` and `reject` at hand, and whether either was called. */
export interface Deferred {
  /** Settles once `resolve` or `reject` is called; its rejection is never reported as unhandled. */
  readonly promise: Promise<void>
  /** Resolves the promise and marks it settled. */
  resolve: () => void
  /** Rejects the promise and marks it settled. */
  reject: (err: Error) => void
  /** True once `resolve` or `reject` was called. */
  readonly settled: boolean
}

/**
 * A new {@link Deferred}: for a phase that waits for something other callbacks
 * decide (the pool reached `minServers`, every child has exited).
 */
export function deferred (): Deferred {
  let resolveIt!: () => void
  let rejectIt!: (err: Error) => void
  const promise = new Promise<void>((resolve, reject) => { resolveIt = resolve; rejectIt = reject })
  let settled = false
  // A rejection nobody awaits yet (a crash loop before loop() awaits) is not unhandled.
  promise.catch(() => {})
  return {
    promise,
    get settled () { return settled },
    resolve: () => { settled = true; resolveIt() },
    reject: (err) => { settled = true; rejectIt(err) }
  }
}
