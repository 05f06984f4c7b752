/**
 * The other side of {@link TestProcess}: what a fixture script calls to print its
 * events as JSON lines on stdout.
 */

/** Prints one event line: `{"event":"<event>",...fields}`. */
export function report (event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`)
}

/** What {@link reportPoolEvents} listens to: a server of the workspace (its events are typed there). */
export interface PoolEmitter {
  on: (event: any, listener: (...args: any[]) => void) => unknown
}

/**
 * Reports a preforking server's events as lines that {@link PoolProcess} reads:
 * `listening` (endpoints), `childSpawn`, `childReady`, `childState`, `childExit`,
 * `error` (code and message) and `close`.
 */
export function reportPoolEvents (server: PoolEmitter): void {
  server.on('listening', (endpoints: readonly string[]) => { report('listening', { endpoints }) })
  server.on('childSpawn', (pid: number) => { report('childSpawn', { pid }) })
  server.on('childReady', (pid: number) => { report('childReady', { pid }) })
  server.on('childState', (pid: number, state: string) => { report('childState', { pid, state }) })
  server.on('childExit', (pid: number, code: number | null, signal: string | null) => { report('childExit', { pid, code, signal }) })
  server.on('error', (err: Error) => { report('error', { code: (err as { code?: string }).code, message: err.message }) })
  server.on('close', () => { report('close') })
}
