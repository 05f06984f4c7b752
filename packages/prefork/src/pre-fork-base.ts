import type { ChildProcess, SendHandle, Serializable } from 'node:child_process'
import type { DependencyContainer } from 'tsyringe'
import { registerDefault, Server, type OptionSpecs, type RequestContext } from '@net-server/core'
import { isPoolChild } from './ipc.js'
import { preForkOptionSpecs, validatePreForkOptions, type ResolvedPreForkOptions } from './options.js'
import { nodeProcessSpawner } from './process-spawner.js'
import { PROCESS_SPAWNER } from './tokens.js'

/** Which process a title is for. */
export type ProcessRole = 'parent' | 'child'

/**
 * What {@link PreForkServer} declares besides driving the pool: which process this
 * is, the options and defaults, the hooks (no-ops with Net::Server::PreFork's
 * names) that users override, and a personality's extension points. The pool calls
 * them; `PreForkServer` is the class to extend.
 *
 * @typeParam R - the resolved options of the concrete class
 * @typeParam Q - the per-request context of the concrete class
 */
export abstract class PreForkBase<
  R extends ResolvedPreForkOptions = ResolvedPreForkOptions,
  Q extends RequestContext = RequestContext
> extends Server<R, Q> {
  readonly #isChild = isPoolChild()

  /** True in a child process of the pool, false in the parent. */
  get isChild (): boolean {
    return this.#isChild
  }

  // -------------------------------------------------------------------------
  // Declarations

  protected override optionSpecs (): OptionSpecs {
    const specs = preForkOptionSpecs()
    if (!this.isChild || specs.pidFile === undefined) return specs
    // The parent owns the pid file; a child must neither check nor write it.
    return { ...specs, pidFile: { ...specs.pidFile, validate: () => undefined } }
  }

  protected override validateOptions (options: R): void {
    super.validateOptions(options)
    validatePreForkOptions(options)
    if (options.workerModule === undefined && process.argv[1] === undefined) {
      throw new RangeError('options.workerModule must be set: this process has no entry module for the children to run')
    }
  }

  /** Registers the Node {@link ProcessSpawner} under {@link PROCESS_SPAWNER} unless one is registered. */
  protected override registerDefaults (container: DependencyContainer): void {
    super.registerDefaults(container)
    registerDefault(container, PROCESS_SPAWNER as symbol, () => nodeProcessSpawner)
  }

  // -------------------------------------------------------------------------
  // Extension points of a personality

  /**
   * Parent: milliseconds the request waiting longest for a child has waited, 0 when
   * none waits (the default). A personality with a queue overrides it, and calls
   * `requestWaiting()` when a request begins to wait, for `scaleUpWait`.
   */
  protected queueWait (): number {
    return 0
  }

  /**
   * True (the default) when each child reports `processing` / `waiting` over IPC
   * around every request. A personality that knows the states itself (the ZeroMQ
   * broker's worker table) returns false and calls {@link PreForkServer.setChildState}.
   * Parent and child must agree: it must not depend on which process asks.
   */
  protected get childReportsState (): boolean {
    return true
  }

  /**
   * The process title of the parent and of each child. Defaults to
   * `<class name> parent` / `<class name> child`; the ZeroMQ personality gives
   * `zmq broker <fport>-<bport>` / `zmq worker <bport>`.
   */
  protected processTitle (role: ProcessRole): string {
    return `${this.constructor.name} ${role}`
  }

  /**
   * Extra environment for each child (parent, at every spawn): how a personality
   * hands down what it learned at bind, such as an endpoint whose port the system
   * chose. Empty here.
   */
  protected childEnv (): Record<string, string> {
    return {}
  }

  /**
   * The bootstrap data of one child (parent, when the child asks at boot, before its
   * `childInitHook`): what a personality hands a child over the child's own IPC
   * channel rather than its environment, which any process of the same user can read
   * in `/proc/<pid>/environ`: keys, per-child tags. Any value Node's IPC serializes;
   * the child reads it as `bootstrapData`. A throw is a boot failure of that child.
   * `undefined` (none) here.
   */
  protected childBootstrap (_pid: number): Serializable | undefined {
    return undefined
  }

  /**
   * Connects the child to its source of work (child), after `childInitHook` and
   * before `reportReady`: the ZeroMQ worker connects its socket here. Empty here.
   */
  protected async childConnect (): Promise<void> {}

  /**
   * Watches a process that a hook of the parent started (not a pool child): when it
   * exits, `otherChildDiedHook(pid)` runs, as Net::Server calls it for a reaped pid
   * that is not one of its children.
   */
  protected watchOtherChild (child: ChildProcess): void {
    child.once('exit', () => {
      if (child.pid === undefined) return
      this.otherChildDiedHook(child.pid).catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err))
        this.log(0, `otherChildDiedHook failed: ${error.message}`)
        this.emit('error', error)
      })
    })
  }

  // -------------------------------------------------------------------------
  // Hooks: no-ops for users to override

  /** Runs in the parent before each child is spawned (after `runNChildrenHook`). */
  protected async preForkHook (): Promise<void> {}

  /** Runs in the parent when `n` children are about to be spawned, before the first `preForkHook`. */
  protected async runNChildrenHook (_n: number): Promise<void> {}

  /**
   * Runs in each child first in `runChild`, after `postConfigureHook` and before
   * `childConnect`: open per-child resources here. Throwing is a boot failure.
   */
  protected async childInitHook (): Promise<void> {}

  /** Runs in each child after its request loop ended, before the child closes and exits. */
  protected async childFinishHook (): Promise<void> {}

  /**
   * Runs in the parent after every `checkForWaiting` check (the pool is
   * event-driven, so this is its periodic "idle loop").
   */
  protected async idleLoopHook (): Promise<void> {}

  /**
   * Runs in the parent for every IPC message from a child, before the pool reads
   * it; return true when the message was the personality's and the pool should
   * ignore it. `handle` is a socket or server sent along, if any. Synchronous, so
   * messages keep their order.
   */
  protected parentReadHook (_pid: number, _message: unknown, _handle?: SendHandle): boolean {
    return false
  }

  /** Runs in the parent after a child left the tally (`deleteChild`), before the pool replaces it. */
  protected async deleteChildHook (_pid: number): Promise<void> {}

  /** Runs in the parent when a process given to `watchOtherChild` exits. */
  protected async otherChildDiedHook (_pid: number): Promise<void> {}

  /**
   * Runs in the parent's `serverClose` after every child has exited, before core's
   * `preServerCloseHook` and release.
   */
  protected async postChildCleanupHook (): Promise<void> {}
}
