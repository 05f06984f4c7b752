import { readFileSync } from 'node:fs'
import { commandLineError, confFileError, unknownOptionError } from './errors.js'

/**
 * The headings under which a command's `--help` lists its flags, in the order it shows
 * them. A spec names one in {@link OptionSpecBase.group}; flags without one come last.
 */
export const OPTION_GROUPS = ['Sockets', 'Workers', 'Jobs', 'Process', 'Access', 'Security', 'Supervision'] as const

/** A heading of {@link OPTION_GROUPS}. */
export type OptionGroup = typeof OPTION_GROUPS[number]

/**
 * What every option declares, whatever its type: its help line, its default, and
 * where a command-line tool built from the specs (`nsz`) shows it. The builders
 * ({@link integer}, {@link duration} ...) take these and add the parsing and the checks.
 */
export interface OptionSpecBase<T = unknown> {
  /** One line for `--help` and the docs. */
  readonly description: string
  /** The value when no source sets the option. */
  readonly default: T
  /** The `--help` heading the flag is listed under; none: "Other options". */
  readonly group?: OptionGroup
  /**
   * Position within its group in `--help`, lowest first (default 0); options of the
   * same order keep the order in which they are declared.
   */
  readonly order?: number
  /** The value's placeholder in `--help` (`<endpoint>`); default by kind: `<seconds>`, `<n>`, `<value>`. */
  readonly placeholder?: string
  /**
   * The part of a server that reads the option, when only one part does: a command that
   * runs without that part offers no flag for it (`nsz worker` leaves out `'broker'`
   * options). None: every part reads it.
   */
  readonly scope?: string
  /**
   * `false`: command-line tools offer no flag for it (the server still reads it from
   * `argv` and conf files). Options without `parse` never have a flag.
   */
  readonly flag?: boolean
}

/**
 * How one option is declared: its default, how a string from the command line or a
 * conf file becomes a value, how a value is checked, and where `--help` lists it. A
 * class declares its options in `optionSpecs()`; a subclass spreads its parent's and
 * adds its own, as Net::Server's `options()` does. To change one thing of a parent's
 * option, rebuild it from the parent's spec: `duration({ ...spec, min: 10 })`.
 */
export interface OptionSpec<T = unknown> extends OptionSpecBase<T> {
  /**
   * Turns a command-line or conf-file string into a value; `undefined` for options
   * that only code can set (functions, objects).
   */
  readonly parse?: (raw: string, name: string) => unknown
  /** Returns the checked value, or throws a TypeError / RangeError that names `options.<name>`. */
  readonly validate: (value: unknown, name: string) => T
  /** A list option: repeated conf-file lines and flags accumulate. */
  readonly repeatable?: boolean
  /** What the builder made it, for help texts: durations are shown in seconds. */
  readonly kind?: 'integer' | 'duration' | 'string' | 'boolean' | 'list' | 'custom'
  /** The lowest value of an integer or a duration. */
  readonly min?: number
  /** The highest value of an integer or a duration. */
  readonly max?: number
  /** A duration in whole milliseconds only. */
  readonly whole?: boolean
}

/** Every option a class knows, by camelCase name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** The sources of option values, highest precedence first (Net::Server's order). */
export interface OptionSources {
  /** Passed to the constructor. */
  readonly constructor?: Readonly<Record<string, unknown>>
  /** Parsed from the command line. */
  readonly commandLine?: Readonly<Record<string, unknown>>
  /** Passed to `run()`. */
  readonly run?: Readonly<Record<string, unknown>>
  /** Read from `confFile`. */
  readonly confFile?: Readonly<Record<string, unknown>>
}

// ---------------------------------------------------------------------------
// Spec builders

/** The fields of {@link OptionSpecBase} that `spec` sets; the rest of it (a parent's checks) is left behind. */
export function specBase<T> (spec: OptionSpecBase<T>): OptionSpecBase<T> {
  const base: { -readonly [K in keyof OptionSpecBase<T>]: OptionSpecBase<T>[K] } = { description: spec.description, default: spec.default }
  if (spec.group !== undefined) base.group = spec.group
  if (spec.order !== undefined) base.order = spec.order
  if (spec.placeholder !== undefined) base.placeholder = spec.placeholder
  if (spec.scope !== undefined) base.scope = spec.scope
  if (spec.flag !== undefined) base.flag = spec.flag
  return base
}

/** A whole number in `[min, max]`. */
export function integer<D extends number | undefined = number> (spec: OptionSpecBase<D> & { min?: number, max?: number }): OptionSpec<number | D> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = spec
  return {
    ...specBase(spec),
    kind: 'integer',
    min,
    max,
    parse: (raw, name) => parseNumber(raw, name),
    validate: (value, name) => {
      if (value === undefined && spec.default === undefined) return spec.default
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new TypeError(`options.${name} must be an integer, got ${describe(value)}`)
      }
      if (value < min || value > max) {
        throw new RangeError(`options.${name} must be ${range(min, max)}, got ${value}`)
      }
      return value
    }
  }
}

/**
 * A duration in milliseconds. Code passes milliseconds; the command line and conf
 * files give seconds, fractions allowed, as Net::Server does (`--job-timeout 2.5`).
 */
export function duration<D extends number | undefined = number> (spec: OptionSpecBase<D> & { min?: number, max?: number, whole?: boolean }): OptionSpec<number | D> {
  // Node's timers hold at most 2^31 - 1 ms; a longer one would fire at once.
  const { min = 0, max = 2_147_483_647, whole = false } = spec
  return {
    ...specBase(spec),
    kind: 'duration',
    min,
    max,
    ...(whole ? { whole } : {}),
    parse: (raw, name) => Math.round(parseNumber(raw, name) * 1000),
    validate: (value, name) => {
      if (value === undefined && spec.default === undefined) return spec.default
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new TypeError(`options.${name} must be a duration in milliseconds, got ${describe(value)}`)
      }
      if (whole && !Number.isInteger(value)) throw new TypeError(`options.${name} must be a whole number of milliseconds, got ${value}`)
      if (value < min) throw new RangeError(`options.${name} must be at least ${min} ms, got ${value}`)
      if (value > max) throw new RangeError(`options.${name} must be at most ${max} ms, got ${value}`)
      return value
    }
  }
}

/** A string; `choices` restricts it to a set. */
export function string<D extends string | undefined = string> (spec: OptionSpecBase<D> & { choices?: readonly string[], nonEmpty?: boolean }): OptionSpec<string | D> {
  return {
    ...specBase(spec),
    kind: 'string',
    parse: (raw) => raw,
    validate: (value, name) => {
      if (value === undefined && spec.default === undefined) return spec.default
      if (typeof value !== 'string') throw new TypeError(`options.${name} must be a string, got ${describe(value)}`)
      if (spec.nonEmpty === true && value.length === 0) throw new RangeError(`options.${name} must not be empty`)
      if (spec.choices !== undefined && !spec.choices.includes(value)) {
        throw new RangeError(`options.${name} must be one of ${spec.choices.join(', ')}, got '${value}'`)
      }
      return value
    }
  }
}

/** A boolean; the command line takes `--flag`, `--flag=false`, `--no-flag`. */
export function boolean (spec: OptionSpecBase<boolean>): OptionSpec<boolean> {
  return {
    ...specBase(spec),
    kind: 'boolean',
    parse: (raw, name) => {
      const v = raw.toLowerCase()
      if (['1', 'true', 'yes', 'on'].includes(v)) return true
      if (['0', 'false', 'no', 'off'].includes(v)) return false
      throw new TypeError(`options.${name} must be a boolean (true/false, yes/no, 1/0), got '${raw}'`)
    },
    validate: (value, name) => {
      if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean, got ${describe(value)}`)
      return value
    }
  }
}

/**
 * A list of strings, repeated on the command line and in conf files. A value from
 * either is also split on commas, unless `split: false` (regular expressions, whose
 * `{1,3}` holds a comma).
 */
export function stringList (spec: OptionSpecBase<readonly string[]> & { item?: (value: string, name: string) => void, split?: boolean }): OptionSpec<readonly string[]> {
  const split = spec.split ?? true
  return {
    ...specBase(spec),
    kind: 'list',
    repeatable: true,
    parse: (raw) => (split ? raw.split(',') : [raw]).map((s) => s.trim()).filter((s) => s.length > 0),
    validate: (value, name) => {
      const list = typeof value === 'string' ? [value] : value
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
        throw new TypeError(`options.${name} must be a string or an array of strings, got ${describe(value)}`)
      }
      for (const item of list) spec.item?.(item, name)
      return Object.freeze([...list])
    }
  }
}

/** A value only code can set: a function, an object. `check` throws when it is not acceptable. */
export function custom<T> (spec: OptionSpecBase<T> & { check: (value: unknown, name: string) => T }): OptionSpec<T> {
  return { ...specBase(spec), kind: 'custom', validate: spec.check }
}

/** The resolved value of each option of a spec table: what its `validate` returns. */
export type OptionValues<S> = { readonly [K in keyof S]: S[K] extends { validate: (...args: never[]) => infer T } ? T : never }

/** The default of each option of a spec table. */
export type OptionDefaults<S> = { readonly [K in keyof S]: S[K] extends { default: infer D } ? D : never }

/** The defaults of a spec table as one frozen object, by option name. */
export function optionDefaults<S extends OptionSpecs> (specs: S): OptionDefaults<S> {
  return Object.freeze(Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.default]))) as OptionDefaults<S>
}

// ---------------------------------------------------------------------------
// Resolution

/**
 * The values of `options` that `specs` declares, by its keys: how a class hands its
 * resolved options to a part that declares the same ones (a server to its broker).
 */
export function pickOptions<S extends OptionSpecs, O extends object> (options: O, specs: S): Pick<O, keyof S & keyof O> {
  return Object.fromEntries(Object.keys(specs).filter((name) => Object.hasOwn(options, name)).map((name) => [name, (options as Record<string, unknown>)[name]])) as Pick<O, keyof S & keyof O>
}

/**
 * Merges the sources in Net::Server's precedence (constructor > command line >
 * `run()` > conf file > defaults), refuses unknown names and checks every value.
 * The result is frozen.
 */
export function resolveOptions<T> (specs: OptionSpecs, sources: OptionSources): T {
  const known = Object.keys(specs)
  const layers: Array<[string, Readonly<Record<string, unknown>> | undefined]> = [
    ['the constructor options', sources.constructor],
    ['the command line', sources.commandLine],
    ['the run() options', sources.run],
    ['the conf file', sources.confFile]
  ]
  for (const [where, layer] of layers) {
    for (const key of Object.keys(layer ?? {})) {
      if (!Object.hasOwn(specs, key)) throw unknownOptionError(key, where, known)
    }
  }
  const resolved: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(specs)) {
    let value: unknown = spec.default
    for (const [, layer] of layers) {
      if (layer !== undefined && Object.hasOwn(layer, name) && layer[name] !== undefined) {
        value = layer[name]
        break
      }
    }
    resolved[name] = spec.validate(value, name)
  }
  return Object.freeze(resolved) as T
}

/** `min-servers` and `min_servers` to `minServers`. */
export function camelCase (name: string): string {
  return name.replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** `minServers` to `min-servers`. */
export function kebabCase (name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/**
 * Parses Net::Server style arguments: `--min-servers 5`, `--min-servers=5`,
 * `--min_servers=5`, `--flag`, `--no-flag`. Arguments that do not start with `--`
 * are left alone; an unknown `--option` is an error.
 */
export function parseCommandLine (argv: readonly string[], specs: OptionSpecs): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') break
    if (!arg.startsWith('--')) continue
    const eq = arg.indexOf('=')
    let key = camelCase(arg.slice(2, eq === -1 ? undefined : eq))
    let raw = eq === -1 ? undefined : arg.slice(eq + 1)
    let spec = specs[key]
    if (spec === undefined && raw === undefined && key.startsWith('no') && key.length > 2) {
      const positive = key[2]!.toLowerCase() + key.slice(3)
      if (specs[positive]?.default === true || specs[positive]?.default === false) {
        key = positive
        spec = specs[positive]
        raw = 'false'
      }
    }
    if (spec === undefined) throw commandLineError(unknownOptionError(key, 'the command line', Object.keys(specs)).message)
    if (spec.parse === undefined) throw commandLineError(`option --${kebabCase(key)} can only be set from code`)
    if (raw === undefined) {
      const isFlag = typeof spec.default === 'boolean'
      const next = argv[i + 1]
      // A flag takes the next argument only when it is a boolean word: `--verbose app.js`, `--verbose --port 1`.
      if (isFlag && (next === undefined || !/^(true|false|yes|no|on|off|0|1)$/i.test(next))) {
        raw = 'true'
      } else {
        if (next === undefined) throw commandLineError(`option --${kebabCase(key)} needs a value`)
        raw = next
        i++
      }
    }
    const value = spec.parse(raw, key)
    spec.validate(value, key) // a bad value is an error even when a higher source overrides it
    accumulate(out, key, spec, value)
  }
  return out
}

/**
 * Parses a conf file in Net::Server's format: one `key value` per line, `#` starts a
 * comment, keys in snake_case or camelCase; repeated keys accumulate for list options.
 */
export function parseConfFile (file: string, specs: OptionSpecs): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw confFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check options.confFile`, err)
  }
  return parseConfText(text, specs, file)
}

/** {@link parseConfFile} on text already read; `file` names it in errors. */
export function parseConfText (text: string, specs: OptionSpecs, file = '<conf>'): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/(^|\s)#.*$/, '').trim()
    if (line.length === 0) continue
    const match = /^([A-Za-z][\w-]*)\s*(?:[\s=]\s*(.*))?$/.exec(line)
    if (match === null) throw confFileError(file, `line ${n + 1} is not 'key value': ${lines[n]}`)
    const key = camelCase(match[1]!)
    const spec = specs[key]
    if (spec === undefined) throw confFileError(file, `line ${n + 1}: ${unknownOptionError(key, 'the conf file', Object.keys(specs)).message}`)
    if (spec.parse === undefined) throw confFileError(file, `line ${n + 1}: option ${match[1]} can only be set from code`)
    const raw = match[2] ?? (typeof spec.default === 'boolean' ? 'true' : '')
    try {
      // Checked here too, so that a bad value is reported with its line.
      const value = spec.parse(raw, key)
      spec.validate(value, key)
      accumulate(out, key, spec, value)
    } catch (err) {
      throw confFileError(file, `line ${n + 1}: ${(err as Error).message}`, err)
    }
  }
  return out
}

function accumulate (out: Record<string, unknown>, key: string, spec: OptionSpec, value: unknown): void {
  if (spec.repeatable === true && Array.isArray(out[key]) && Array.isArray(value)) {
    out[key] = [...out[key] as unknown[], ...value]
  } else {
    out[key] = value
  }
}

function parseNumber (raw: string, name: string): number {
  // Number() ignores white space around the digits, and reads blank text as 0.
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n)) throw new TypeError(`options.${name} must be a number, got '${raw}'`)
  return n
}

function range (min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER) return min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`
  return `an integer from ${min} to ${max}`
}

/** A short description of a value for error messages. */
export function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value
}
