#!/usr/bin/env node
/**
 * The `nsz` executable: see {@link main} and `docs/getting-started.md`.
 */
import { main } from '../cli.js'

process.exitCode = await main(process.argv.slice(2))
