export * from './protocol.js'
export * from './errors.js'
export {
  type BaseClientOptions, type CurveOptions, type RequestOptions, type ResolvedBaseClientOptions,
  DEFAULT_ENDPOINT, baseDefaults
} from './options.js'
export * from './lazy-pirate-client.js'
export * from './client.js'
export * from './json.js'
export { type CliIo, ExitCode, main as runZmqClient } from './cli.js'
