#!/usr/bin/env node
/**
 * The `zmq-client` executable: see {@link main} and `docs/client.md`.
 */
import { main } from '../cli.js'

process.exitCode = await main(process.argv.slice(2))
