/** The project's clients in tests: closed when the test ends, and what their replies say. */
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { TSX, run, type RunResult } from './process.js'

/**
 * `resource` (a client, a socket, anything with `close()`), closed when the test
 * ends; returns it.
 */
export function closing<T extends { close: () => unknown }> (resource: T): T {
  onTestFinished(async () => { await resource.close() })
  return resource
}

/** A frame from a string. */
export const b = (s: string): Buffer => Buffer.from(s)

/**
 * The text of each frame, one character per byte (latin1): binary frames (a command
 * byte, a job id) compare exactly, and ASCII reads as itself.
 */
export const text = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString('latin1'))

/** The status of a failed request, or 200 when it succeeded. */
export async function statusOf (request: Promise<unknown>): Promise<number> {
  try {
    await request
    return 200
  } catch (err) {
    const status = (err as { status?: number }).status
    if (status === undefined) throw err
    return status
  }
}

const ZMQ_CLIENT = fileURLToPath(new URL('../../client/src/bin/zmq-client.ts', import.meta.url))

/** Runs the `zmq-client` command from its source as a real process, with `input` on stdin; fails past `deadline` ms. */
export async function runZmqClient (args: readonly string[], input = '', deadline = 20_000): Promise<RunResult> {
  return await run(process.execPath, [...TSX, ZMQ_CLIENT, ...args], input, deadline)
}
