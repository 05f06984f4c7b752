import { DEFAULT_SERVICE, MMI_PREFIX } from '@net-server/client'

/** What a job function may return: the reply body, one frame or several. */
export type JobReply = Buffer | string | Uint8Array | ReadonlyArray<Buffer | string | Uint8Array> | null | undefined

/** What a job function learns about its job besides the payload. */
export interface JobInfo {
  /** The service the request was sent to. */
  readonly service: string
  /** The broker's id of this job, in hex (for logs). */
  readonly jobId: string
  /** The request body, one Buffer per frame, however many frames there are. */
  readonly frames: readonly Buffer[]
}

/**
 * A job: receives the request payload (a single Buffer for a one-frame request, an
 * array for several frames) and returns, or resolves to, the reply: a
 * {@link JobReply}. A throw becomes status 500 with the error's message; the
 * worker keeps serving. A subclass that overrides `decodeRequest` / `encodeReply`
 * (a JSON server, say) passes and takes other types, hence the loose signature.
 *
 * @example
 * const upper: JobFunction = (payload) => payload.toString().toUpperCase()
 */
export type JobFunction = {
  // Method syntax keeps parameters bivariant, so `(value: MyType) => …` fits too.
  job (payload: Buffer | Buffer[], info: JobInfo): unknown
}['job']

/** The `app` option: one job function for the default service, or one per service name. */
export type App = JobFunction | Readonly<Record<string, JobFunction>>

/** The seed's default `app`: echoes the request. */
export const echo: JobFunction = (payload) => payload

/** The app as a map from service name to job function. */
export function appServices (app: App, defaultService = DEFAULT_SERVICE): ReadonlyMap<string, JobFunction> {
  if (typeof app === 'function') return new Map([[defaultService, app]])
  return new Map(Object.entries(app))
}

/** Throws a TypeError naming `options.app` unless `value` is a job function or a map of them. */
export function checkApp (value: unknown, name: string): App {
  if (typeof value === 'function') return value as JobFunction
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value)
    if (entries.length === 0) throw new TypeError(`options.${name} must name at least one service`)
    for (const [service, fn] of entries) {
      if (service.length === 0) throw new TypeError(`options.${name} has an empty service name`)
      if (service.startsWith(MMI_PREFIX)) throw new TypeError(`options.${name}: service names starting with '${MMI_PREFIX}' are reserved (got '${service}')`)
      if (typeof fn !== 'function') throw new TypeError(`options.${name}['${service}'] must be a function, got ${typeof fn}`)
    }
    return Object.freeze({ ...value as Record<string, JobFunction> })
  }
  throw new TypeError(`options.${name} must be a function or an object mapping service names to functions, got ${value === null ? 'null' : typeof value}`)
}

/** Turns a job's result into reply frames. */
export function replyFrames (result: JobReply): Buffer[] {
  if (result === null || result === undefined) return []
  if (Buffer.isBuffer(result)) return [result]
  if (typeof result === 'string') return [Buffer.from(result)]
  if (result instanceof Uint8Array) return [Buffer.from(result.buffer, result.byteOffset, result.byteLength)]
  if (Array.isArray(result)) return result.map((f) => replyFrames(f as Buffer | string | Uint8Array)[0] ?? Buffer.alloc(0))
  throw new TypeError(`a job must return a Buffer, a string, or an array of them; got ${typeof result}`)
}
