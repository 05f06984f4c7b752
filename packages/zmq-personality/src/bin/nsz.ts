#!/usr/bin/env node
/**
 * The `nsz` executable: see {@link main} and `docs/getting-started.md`.
 */
import { main } from '../cli.js'

const code = await main(process.argv.slice(2))
process.exitCode = code
// Once the command is done nothing may keep the process alive: a handle left open
// (a socket still lingering, a timer of a user's APP) gets a moment, then the exit.
setTimeout(() => process.exit(code), 2000).unref()
