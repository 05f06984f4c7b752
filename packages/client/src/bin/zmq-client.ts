#!/usr/bin/env node
/**
 * The `zmq-client` executable: see {@link main} and `docs/client.md`.
 */
import { main } from '../cli.js'

// A reader that goes away early (`--help | head`) ends the command, it is not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

process.exitCode = await main(process.argv.slice(2))
