export { AccessControl } from './access.js'
export type { AccessRules, PeerInfo } from './access.js'
export { createContainer, registerDefault, systemClock } from './container.js'
export { CoreErrorCode, NszError } from './errors.js'
export type { ChildState, ServerEvents } from './events.js'
export { LOG_LEVEL_NAMES, PinoLogger } from './logger.js'
export type { LogLevel, Logger, PinoLoggerOptions } from './logger.js'
export {
  OPTION_GROUPS, boolean, custom, describe, duration, integer, kebabCase, optionDefaults, pickOptions, resolveOptions,
  specBase, string, stringList
} from './options.js'
export type {
  OptionDefaults, OptionGroup, OptionSources, OptionSpec, OptionSpecBase, OptionSpecs, OptionValues
} from './options.js'
export { isProcessAlive } from './pid-file.js'
export { Server } from './server.js'
export type { RequestContext } from './server.js'
export { serverOptionSpecs } from './server-options.js'
export type { Options, ResolvedServerOptions, ServerOptions } from './server-options.js'
export { SignalRegistry } from './signals.js'
export { isInert, markInert } from './steps.js'
export type { SignalAction, SignalHandlers } from './signals.js'
export { CLOCK, LOGGER } from './tokens.js'
export type { Clock } from './tokens.js'
