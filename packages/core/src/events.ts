/** The state a child reports to the parent's tally (Net::Server::PreFork's `waiting` / `processing`). */
export type ChildState = 'starting' | 'waiting' | 'processing' | 'exiting'

/**
 * Every event a server emits, with labelled arguments. Events report what happened
 * (for tests, metrics, embedding); hooks change behaviour.
 */
export interface ServerEvents {
  /** After bind: the endpoints the server is reachable on, e.g. `tcp://127.0.0.1:6660`. */
  listening: [endpoints: readonly string[]]
  /** After `serverClose`: everything is released and `run()` is about to resolve. */
  close: []
  /** A failure that no caller can receive (a child that cannot boot, a failed signal action). */
  error: [error: Error]
  /** A child process was started. */
  childSpawn: [pid: number]
  /** A child finished booting and takes work. */
  childReady: [pid: number]
  /** A child's state in the tally changed. */
  childState: [pid: number, state: ChildState]
  /**
   * A child says that its event loop runs (`reportAlive` in the child), while it holds
   * requests (`busy`), or once it holds none (`busy` false): what a watchdog of
   * children stuck in a blocked loop listens to.
   */
  childAlive: [pid: number, busy: boolean]
  /** A child process ended. */
  childExit: [pid: number, code: number | null, signal: string | null]
}
