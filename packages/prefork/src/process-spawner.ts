import { spawn } from 'node:child_process'
import type { ProcessSpawner } from './tokens.js'

/**
 * The default {@link ProcessSpawner}: `node [execArgv] module [args]` with an IPC
 * channel, no standard input, and the parent's standard output and error.
 */
export const nodeProcessSpawner: ProcessSpawner = {
  spawn: (request) => spawn(request.execPath, [...request.execArgv, request.module, ...request.args], {
    env: request.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json'
  })
}
