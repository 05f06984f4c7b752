/**
 * The wire protocol shared by the broker, its workers and its clients.
 *
 * Every message is a list of frames. The functions here encode and decode the
 * frames that follow the ROUTER routing id (the broker strips it on receive and
 * prepends it on send), so they serve both sides of every socket. `docs/protocol.md`
 * documents each frame with a worked example.
 *
 * Decoders never throw: they return a `{ error }` result so that the broker, on its
 * per-message path, can answer a malformed message without a try/catch.
 */

/** MDP/0.1 worker header (ZeroMQ RFC 7). */
export const MDPW = 'MDPW01'
/** MDP/0.1 client header (ZeroMQ RFC 7). */
export const MDPC = 'MDPC01'
/** The project's client dialect header: request id and status on every reply. */
export const NSZC = 'NSZC01'
/** Marker frame of the project's extension in a worker's READY. */
export const NSZ_WORKER_EXTENSION = 'NSZ1'
/** Service prefix reserved for the Majordomo Management Interface (ZeroMQ RFC 8). */
export const MMI_PREFIX = 'mmi.'
/** The default service: plain REQ requests go here. */
export const DEFAULT_SERVICE = 'default'

/**
 * MDP/0.1 worker commands (RFC 7), the third frame of every backend message, and the
 * project's two additions, `ACK` and `CREDIT`.
 */
export const Command = {
  READY: 0x01,
  REQUEST: 0x02,
  REPLY: 0x03,
  HEARTBEAT: 0x04,
  DISCONNECT: 0x05,
  /**
   * The project's: the broker acknowledges a worker's extension, sent only to workers
   * that announced it. RFC 7's commands stop at 0x05, so an RFC 7 broker never sends it.
   */
  ACK: 0x06,
  /**
   * The project's: a worker whose broker acknowledged the extension with the `credit`
   * parameter says how many jobs it takes at once (its slots), whenever that changes.
   */
  CREDIT: 0x07
} as const

/**
 * The ACK parameter by which a broker says that it takes CREDIT: its value is the most
 * slots the broker grants one worker.
 */
export const ACK_CREDIT = 'credit'

/**
 * The ACK parameter by which a broker offers compact framing ({@link FRAMING_COMPACT}):
 * REQUEST and REPLY in one header frame plus the body, instead of MDP/0.1's five or six
 * frames. A worker takes the offer by sending a compact HEARTBEAT.
 */
export const ACK_FRAMING = 'framing'
/** The value of {@link ACK_FRAMING} that names the compact framing. */
export const FRAMING_COMPACT = 'compact'

/** The most slots (jobs at once) one worker may have: the bound of `concurrency` and of CREDIT. */
export const MAX_SLOTS = 1024
export type CommandCode = typeof Command[keyof typeof Command]

/** Reply statuses of the project's client dialect, modelled on HTTP's. */
export const Status = {
  OK: 200,
  /** The request did not parse. */
  MALFORMED: 400,
  /** The ZAP handler or `allowDeny` refused the peer. */
  DENIED: 403,
  /** No worker has ever offered this service. */
  NO_SERVICE: 404,
  /** The request is larger than `maxMessageSize`. */
  TOO_LARGE: 413,
  /** The job threw; the body carries its message. */
  APP_ERROR: 500,
  /** The worker died or went silent while it held the job. */
  WORKER_LOST: 502,
  /** The queue is full, or the server is shutting down. */
  UNAVAILABLE: 503,
  /** The job ran past `jobTimeout`. */
  TIMEOUT: 504
} as const
export type StatusCode = typeof Status[keyof typeof Status]

const STATUS_TEXT: Record<StatusCode, string> = {
  200: 'ok',
  400: 'malformed request',
  403: 'denied',
  404: 'no such service',
  413: 'request too large',
  500: 'job failed',
  502: 'worker lost',
  503: 'server busy or shutting down',
  504: 'job timed out'
}

/** A short text for a status code, or `'unknown status'`. */
export function statusText (status: number): string {
  return STATUS_TEXT[status as StatusCode] ?? 'unknown status'
}

/** True for a code in {@link Status}. */
export function isStatus (value: number): value is StatusCode {
  return Object.hasOwn(STATUS_TEXT, value)
}

/** The empty frame: the delimiter after a REQ envelope, an absent field. @internal */
export const EMPTY = Buffer.alloc(0)
const MDPW_FRAME = Buffer.from(MDPW)
const EXTENSION_FRAME = Buffer.from(NSZ_WORKER_EXTENSION)
const COMMAND_FRAMES = Object.fromEntries(
  Object.values(Command).map((c) => [c, Buffer.from([c])])
) as Record<CommandCode, Buffer>
const STATUS_FRAMES = Object.fromEntries(
  Object.keys(STATUS_TEXT).map((s) => [s, Buffer.from(s)])
) as unknown as Record<StatusCode, Buffer>

/** A frame as the encoders accept it. */
export type Frame = Buffer | string

/** A request body as the encoders accept it: one frame or several. */
export type Body = Frame | readonly Frame[]

/** A frame as a Buffer. @internal */
export function frame (value: Frame): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value
}

/** A body as its frames. @internal */
export function frames (body: Body): Buffer[] {
  return Array.isArray(body) ? body.map(frame) : [frame(body as Frame)]
}

/** Encodes a status as its 3-digit frame. */
export function encodeStatus (status: number): Buffer {
  return STATUS_FRAMES[status as StatusCode] ?? Buffer.from(String(status))
}

/** Decodes a 3-digit status frame; `undefined` when it is not one. */
export function decodeStatus (value: Buffer | undefined): number | undefined {
  if (value === undefined || value.length !== 3) return undefined
  // Digits only: `Number()` alone would read "2e2" as 200.
  const a = value[0]! - 0x30
  const b = value[1]! - 0x30
  const c = value[2]! - 0x30
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return undefined
  return a * 100 + b * 10 + c
}

/** Appends `frames` to `msg` and returns it. @internal */
export function pushed (msg: Buffer[], frames: readonly Buffer[]): Buffer[] {
  for (let i = 0; i < frames.length; i++) msg.push(frames[i]!)
  return msg
}

/** A failure in one frame, `ERROR <status> <message>`, for the dialects without a status frame. @internal */
export function errorFrame (status: number, body: readonly Buffer[]): Buffer {
  const message = body.length > 0 ? Buffer.concat(body as Buffer[]).toString() : statusText(status)
  return Buffer.from(`ERROR ${status} ${message}`)
}

/** The outcome of a decoder: the message, or why it is malformed. */
export type Decoded<T> = T | { readonly error: string }

/** True when a decoder returned an error. */
export function isDecodeError<T> (value: Decoded<T>): value is { readonly error: string } {
  return (value as { error?: unknown }).error !== undefined
}

// ---------------------------------------------------------------------------
// Backend: worker <-> broker (MDP/0.1 worker protocol with the project's extension)

/**
 * The project's extension, announced in READY after the service frame:
 * `"NSZ1" | pid | more services...`. A worker that announces it receives the
 * service in REQUEST frame 5 and sends a status in REPLY frame 5.
 */
export interface WorkerExtension {
  readonly pid: number
  /** Services served besides the one in the READY service frame. */
  readonly services: readonly string[]
}

/** A backend message, decoded. */
export type WorkerMessage =
  | { readonly command: 'ready', readonly service: string, readonly extension?: WorkerExtension }
  | { readonly command: 'request', readonly jobId: Buffer, readonly service?: string, readonly body: Buffer[] }
  | { readonly command: 'reply', readonly jobId: Buffer, readonly status?: number, readonly body: Buffer[] }
  | { readonly command: 'heartbeat' }
  | { readonly command: 'disconnect' }
  | { readonly command: 'ack', readonly extension: string, readonly params: ExtensionParams }
  | { readonly command: 'credit', readonly slots: number }

/**
 * What an ACK carries after the extension's marker: key/value pairs, a frame each.
 * {@link ACK_CREDIT} is the one defined; a receiver ignores the keys it does not know,
 * so that later versions can add capabilities and parameters without a new message.
 */
export type ExtensionParams = Readonly<Record<string, string>>

/**
 * Decodes a backend message (the frames after the routing id on the broker, or all
 * frames on a worker's DEALER). `extended` says whether the sender speaks the
 * project's extension, which changes the meaning of REQUEST and REPLY frame 5.
 */
export function decodeWorkerMessage (msg: readonly Buffer[], extended = false): Decoded<WorkerMessage> {
  if (msg.length < 3) return { error: 'backend message needs at least 3 frames' }
  if (msg[0]!.length !== 0) return { error: 'missing empty delimiter frame' }
  if (!msg[1]!.equals(MDPW_FRAME)) return { error: `unknown protocol header (expected ${MDPW})` }
  const command = msg[2]!
  if (command.length !== 1) return { error: 'command frame must be one byte' }
  switch (command[0]) {
    case Command.READY: {
      const service = msg[3]
      if (service === undefined || service.length === 0) return { error: 'READY needs a service name' }
      if (msg.length > 4 && msg[4]!.equals(EXTENSION_FRAME)) {
        const pidText = msg[5]?.toString() ?? ''
        const pid = /^[0-9]+$/.test(pidText) ? Number(pidText) : Number.NaN
        if (!Number.isSafeInteger(pid) || pid <= 0) return { error: 'READY extension needs a pid frame' }
        const services = msg.slice(6).map((s) => s.toString())
        if (services.some((s) => s.length === 0)) return { error: 'READY extension has an empty service name' }
        return { command: 'ready', service: service.toString(), extension: { pid, services } }
      }
      return { command: 'ready', service: service.toString() }
    }
    case Command.REQUEST:
    case Command.REPLY: {
      const name = command[0] === Command.REQUEST ? 'REQUEST' : 'REPLY'
      if (msg.length < 5) return { error: `${name} needs job id and delimiter frames` }
      const jobId = msg[3]!
      const fifth = msg[4]!
      if (command[0] === Command.REQUEST) {
        if (fifth.length === 0) return { command: 'request', jobId, body: msg.slice(5) }
        // A standard REQUEST has an empty delimiter here: dropping its content would lose data.
        if (!extended) return { error: 'REQUEST frame 5 must be empty' }
        return { command: 'request', jobId, service: fifth.toString(), body: msg.slice(5) }
      }
      if (!extended) {
        if (fifth.length !== 0) return { error: 'REPLY frame 5 must be empty' }
        return { command: 'reply', jobId, body: msg.slice(5) }
      }
      const status = decodeStatus(fifth)
      if (status === undefined) return { error: 'extended REPLY needs a 3-digit status in frame 5' }
      return { command: 'reply', jobId, status, body: msg.slice(5) }
    }
    case Command.HEARTBEAT: return HEARTBEAT_MESSAGE
    case Command.DISCONNECT: return DISCONNECT_MESSAGE
    case Command.ACK: return decodeAck(msg)
    case Command.CREDIT: return decodeCredit(msg)
    default: return { error: `unknown command 0x${command[0]!.toString(16).padStart(2, '0')}` }
  }
}

function decodeAck (msg: readonly Buffer[]): Decoded<WorkerMessage> {
  const extension = msg[3]
  if (extension === undefined || extension.length === 0) return { error: 'ACK needs the extension\'s marker frame' }
  if ((msg.length - 4) % 2 !== 0) return { error: 'ACK parameters come in key and value frames' }
  const pairs: Array<[string, string]> = []
  for (let i = 4; i < msg.length; i += 2) {
    if (msg[i]!.length === 0) return { error: 'ACK has an empty parameter name' }
    pairs.push([msg[i]!.toString(), msg[i + 1]!.toString()])
  }
  // fromEntries defines own properties: a key named __proto__ stays a key.
  return { command: 'ack', extension: extension.toString(), params: Object.freeze(Object.fromEntries(pairs)) }
}

function decodeCredit (msg: readonly Buffer[]): Decoded<WorkerMessage> {
  const text = msg.length === 4 ? msg[3]!.toString() : ''
  const slots = /^[0-9]{1,4}$/.test(text) ? Number(text) : Number.NaN
  if (!(slots <= MAX_SLOTS)) return { error: `CREDIT needs one frame with the slots, an integer from 0 to ${MAX_SLOTS}` }
  return { command: 'credit', slots }
}

const HEARTBEAT_MESSAGE: WorkerMessage = Object.freeze({ command: 'heartbeat' })
const DISCONNECT_MESSAGE: WorkerMessage = Object.freeze({ command: 'disconnect' })

/** READY, from a worker: `'' | MDPW01 | 0x01 | service [| "NSZ1" | pid | services...]`. */
export function encodeReady (service: string, extension?: WorkerExtension): Buffer[] {
  const msg = [EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.READY], Buffer.from(service)]
  if (extension !== undefined) {
    msg.push(EXTENSION_FRAME, Buffer.from(String(extension.pid)), ...extension.services.map((s) => Buffer.from(s)))
  }
  return msg
}

/**
 * REQUEST, from the broker: `'' | MDPW01 | 0x02 | job id | '' | body...`; to an
 * extended worker frame 5 carries the service name instead of being empty.
 */
export function encodeRequest (jobId: Buffer, body: readonly Buffer[], service?: Frame): Buffer[] {
  return request([], jobId, body, service)
}

/**
 * Encodes REQUEST as the broker's backend ROUTER sends it: the worker's routing id, then
 * the frames of {@link encodeRequest}. The broker passes the service as a Buffer it
 * keeps, so that a job costs no new frame.
 */
export function encodeRequestTo (worker: Buffer, jobId: Buffer, body: readonly Buffer[], service?: Frame): Buffer[] {
  return request([worker], jobId, body, service)
}

function request (msg: Buffer[], jobId: Buffer, body: readonly Buffer[], service: Frame | undefined): Buffer[] {
  msg.push(EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.REQUEST], jobId, service === undefined ? EMPTY : frame(service))
  return pushed(msg, body)
}

/**
 * The job id of a message that {@link encodeRequestTo} or {@link encodeCompactRequestTo}
 * built, or `undefined` for any other message: the broker learns from it which job a failed send did not deliver.
 */
export function routedRequestJobId (msg: readonly Buffer[]): Buffer | undefined {
  if (msg.length > 4 && msg[3] === COMMAND_FRAMES[Command.REQUEST]) return msg[4]
  // A compact REQUEST ({@link encodeCompactRequestTo}): the header follows the routing id.
  const header = msg[1]
  if (header === undefined || header.length < 3 || header[0] !== Command.REQUEST) return undefined
  return header.subarray(2, 2 + header[1]!)
}

/**
 * REPLY, from a worker: `'' | MDPW01 | 0x03 | job id | '' | body...`; an extended
 * worker puts a 3-digit status in frame 5.
 */
export function encodeReply (jobId: Buffer, body: Body, status?: number): Buffer[] {
  return [EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.REPLY], jobId, status === undefined ? EMPTY : encodeStatus(status), ...frames(body)]
}

/**
 * REPLY exactly as RFC 7 frames it (frame 5 empty), from a worker whose broker has not
 * acknowledged the extension: a failure travels as the one body frame
 * `ERROR <status> <message>`, the same frame the project's broker gives its plain REQ
 * and MDP clients, so that a client of any broker learns of it.
 */
export function encodeRfc7Reply (jobId: Buffer, body: Body, status: number = Status.OK): Buffer[] {
  const reply = frames(body)
  return encodeReply(jobId, status === Status.OK ? reply : [errorFrame(status, reply)])
}

/**
 * ACK, from the broker to a worker that announced the extension, which it then uses:
 * `'' | MDPW01 | 0x06 | "NSZ1" [| key | value]...`.
 */
export function encodeAck (params: ExtensionParams = {}): Buffer[] {
  return ack([], params)
}

/** ACK as the broker's backend ROUTER sends it: the worker's routing id first. */
export function encodeAckTo (worker: Buffer, params: ExtensionParams = {}): Buffer[] {
  return ack([worker], params)
}

function ack (msg: Buffer[], params: ExtensionParams): Buffer[] {
  msg.push(EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.ACK], EXTENSION_FRAME)
  for (const [key, value] of Object.entries(params)) msg.push(Buffer.from(key), Buffer.from(value))
  return msg
}

/**
 * CREDIT, from a worker whose broker's ACK carried {@link ACK_CREDIT}:
 * `'' | MDPW01 | 0x07 | slots`, the jobs it takes at once from now on (0: none).
 */
export function encodeCredit (slots: number): Buffer[] {
  return [EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.CREDIT], Buffer.from(String(slots))]
}

const HEARTBEAT_FRAMES: readonly Buffer[] = Object.freeze([EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.HEARTBEAT]])
const DISCONNECT_FRAMES: readonly Buffer[] = Object.freeze([EMPTY, MDPW_FRAME, COMMAND_FRAMES[Command.DISCONNECT]])

/** HEARTBEAT, either way: `'' | MDPW01 | 0x04`. */
export function encodeHeartbeat (): readonly Buffer[] {
  return HEARTBEAT_FRAMES
}

/** DISCONNECT, either way: `'' | MDPW01 | 0x05`. */
export function encodeDisconnect (): readonly Buffer[] {
  return DISCONNECT_FRAMES
}

/** HEARTBEAT as the broker's backend ROUTER sends it: the worker's routing id first. */
export function encodeHeartbeatTo (worker: Buffer): Buffer[] {
  return [worker, ...HEARTBEAT_FRAMES]
}

/** DISCONNECT as the broker's backend ROUTER sends it: the worker's routing id first. */
export function encodeDisconnectTo (worker: Buffer): Buffer[] {
  return [worker, ...DISCONNECT_FRAMES]
}

// ---------------------------------------------------------------------------
// MMI (RFC 8)

/** The MMI service that tells whether a service has workers (RFC 8). */
export const MMI_SERVICE = 'mmi.service'

/** Answers of `mmi.service`: the service has workers, or not. */
export const MmiStatus = { FOUND: '200', NOT_FOUND: '404', NOT_IMPLEMENTED: '501' } as const
