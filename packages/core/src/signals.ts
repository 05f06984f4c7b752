/** What a signal does: any lifecycle call. */
export type SignalAction = () => unknown

/** Actions by signal name, as a class's `signalHandlers()` returns them. */
export type SignalHandlers = Partial<Record<NodeJS.Signals, SignalAction>>

/**
 * Turns signals into lifecycle calls. The handler itself only queues the signal;
 * the actions run later, one at a time in arrival order, so no work runs inside
 * a signal handler and two signals never interleave (a HUP during a TTIN waits).
 */
export class SignalRegistry {
  readonly #installed = new Map<NodeJS.Signals, () => void>()
  readonly #queue: NodeJS.Signals[] = []
  #actions: SignalHandlers = {}
  #draining = false
  readonly #onError: (signal: NodeJS.Signals, err: unknown) => void

  constructor (onError: (signal: NodeJS.Signals, err: unknown) => void) {
    this.#onError = onError
  }

  /** Installs process handlers for every signal in `actions`. */
  install (actions: SignalHandlers): void {
    this.uninstall()
    this.#actions = actions
    for (const signal of Object.keys(actions) as NodeJS.Signals[]) {
      const listener = (): void => this.#enqueue(signal)
      this.#installed.set(signal, listener)
      process.on(signal, listener)
    }
  }

  /** Removes the process handlers; queued signals are dropped. */
  uninstall (): void {
    for (const [signal, listener] of this.#installed) process.off(signal, listener)
    this.#installed.clear()
    this.#queue.length = 0
  }

  /** The signals handled now. */
  get signals (): NodeJS.Signals[] {
    return [...this.#installed.keys()]
  }

  #enqueue (signal: NodeJS.Signals): void {
    this.#queue.push(signal)
    if (!this.#draining) {
      this.#draining = true
      setImmediate(() => { this.#drain().catch(() => {}) })
    }
  }

  async #drain (): Promise<void> {
    while (this.#queue.length > 0) {
      const signal = this.#queue.shift()!
      try {
        await this.#actions[signal]?.()
      } catch (err) {
        this.#onError(signal, err)
      }
    }
    this.#draining = false
  }
}
