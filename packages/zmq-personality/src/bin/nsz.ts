#!/usr/bin/env node
/**
 * The `nsz` executable: see {@link main} and `docs/getting-started.md`.
 */
import { main } from '../cli.js'

// A reader that goes away early (`--help | head`) ends the command, it is not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const code = await main(process.argv.slice(2))
process.exitCode = code
// Once the command is done nothing may keep the process alive: a handle left open
// (a socket still lingering, a timer of a user's APP) gets a moment, then the exit.
setTimeout(() => process.exit(code), 2000).unref()
