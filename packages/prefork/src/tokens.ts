import type { ChildProcess } from 'node:child_process'
import type { InjectionToken } from 'tsyringe'

/** What the pool asks a {@link ProcessSpawner} to start: one child process. */
export interface SpawnRequest {
  /** The Node executable (`process.execPath`). */
  readonly execPath: string
  /** Node's own flags (`process.execArgv`), so loaders such as tsx carry over. */
  readonly execArgv: readonly string[]
  /** The script the child runs: the parent's entry module or `workerModule`. */
  readonly module: string
  /** The arguments after the script: the parent's (`process.argv.slice(2)`). */
  readonly args: readonly string[]
  /** The child's environment: the parent's plus the child marker. */
  readonly env: NodeJS.ProcessEnv
}

/**
 * Starts child processes for the pool. The process must have an IPC channel
 * (`process.send` in the child); its `exit`, `message`, `error` and `disconnect`
 * events drive the pool. Replace it to wrap children (a sandbox, a different
 * runtime, a fake in tests):
 *
 * @example
 * const c = createContainer()
 * c.register(PROCESS_SPAWNER, { useValue: { spawn: (r) => fork(r.module, [...r.args], { env: r.env }) } })
 * await new MyServer({}, c).run()
 */
export interface ProcessSpawner {
  /** Starts one child; errors (ENOENT, EAGAIN) may also arrive later as the process's `error` event. */
  spawn (request: SpawnRequest): ChildProcess
}

/** The {@link ProcessSpawner} of a `PreForkServer`; `registerDefaults` registers the Node one unless the user did. */
export const PROCESS_SPAWNER: InjectionToken<ProcessSpawner> = Symbol('net-server.process-spawner')
