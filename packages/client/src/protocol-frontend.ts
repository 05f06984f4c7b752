/**
 * The frontend of the wire protocol, between clients and the broker: the three request
 * dialects (`req`, `mdp`, `nsz`) as the broker decodes them, the reply envelope that keeps
 * how to answer each, the replies in each dialect, and the requests and replies as the
 * project's clients encode and decode them. The shared frames (statuses, delimiter) are
 * in `protocol.ts`; `docs/protocol.md` documents each frame.
 */
import {
  DEFAULT_SERVICE, EMPTY, MDPC, NSZC, Status, decodeStatus, encodeStatus, errorFrame, frames, pushed, type Body, type Decoded
} from './protocol.js'

const MDPC_FRAME = Buffer.from(MDPC)
const NSZC_FRAME = Buffer.from(NSZC)

/**
 * A request as the broker reads it from its frontend. Three dialects, told apart by
 * the frame after the empty delimiter:
 * - `req`: `'' | body...`, any REQ socket; served by the default service.
 * - `mdp`: `'' | "MDPC01" | service | body...`, an MDP/0.1 client.
 * - `nsz`: `'' | "NSZC01" | service | request id | body...`, the project's client.
 */
export type ClientRequest =
  | { readonly dialect: 'req', readonly service: string, readonly body: Buffer[] }
  | { readonly dialect: 'mdp', readonly service: string, readonly body: Buffer[] }
  | { readonly dialect: 'nsz', readonly service: string, readonly requestId: Buffer, readonly body: Buffer[] }

/** How a reply must be framed for the client that sent a request. */
export type ReplyEnvelope =
  | { readonly dialect: 'req' }
  | { readonly dialect: 'mdp', readonly service: string }
  | { readonly dialect: 'nsz', readonly requestId: Buffer }

/**
 * Decodes the frames that follow the routing id on the broker's frontend.
 * `defaultService` names the service that plain REQ requests and an empty
 * service frame go to.
 */
export function decodeClientRequest (msg: readonly Buffer[], defaultService = DEFAULT_SERVICE): Decoded<ClientRequest> {
  if (msg.length === 0) return { error: 'empty message' }
  if (msg[0]!.length !== 0) return { error: 'missing empty delimiter frame' }
  if (msg.length < 2) return { error: 'no body after the empty delimiter' }
  const header = msg[1]!
  if (header.equals(NSZC_FRAME)) {
    if (msg.length < 4) return { error: `${NSZC} request needs service and request id frames` }
    const requestId = msg[3]!
    if (requestId.length === 0) return { error: `${NSZC} request id frame is empty` }
    return { dialect: 'nsz', service: msg[2]!.length === 0 ? defaultService : msg[2]!.toString(), requestId, body: msg.slice(4) }
  }
  if (header.equals(MDPC_FRAME)) {
    if (msg.length < 3) return { error: `${MDPC} request needs a service frame` }
    return { dialect: 'mdp', service: msg[2]!.length === 0 ? defaultService : msg[2]!.toString(), body: msg.slice(3) }
  }
  return { dialect: 'req', service: defaultService, body: msg.slice(1) }
}

/** The envelope to answer a request with; a malformed request is answered as plain REQ. */
export function replyEnvelope (request: ClientRequest): ReplyEnvelope {
  switch (request.dialect) {
    case 'nsz': return { dialect: 'nsz', requestId: request.requestId }
    case 'mdp': return { dialect: 'mdp', service: request.service }
    default: return REQ_ENVELOPE
  }
}

/** The envelope of a plain REQ reply. */
export const REQ_ENVELOPE: ReplyEnvelope = Object.freeze({ dialect: 'req' })

/**
 * Encodes a reply for the client's dialect (without the routing id).
 * In the `req` and `mdp` dialects, which carry no status, a failure is one frame
 * `ERROR <status> <message>`.
 */
export function encodeClientReply (envelope: ReplyEnvelope, status: number, body: readonly Buffer[]): Buffer[] {
  return clientReply([], envelope, status, body)
}

/**
 * Encodes a reply as the broker's frontend ROUTER sends it: the client's routing id,
 * then the frames of {@link encodeClientReply}.
 */
export function encodeClientReplyTo (client: Buffer, envelope: ReplyEnvelope, status: number, body: readonly Buffer[]): Buffer[] {
  return clientReply([client], envelope, status, body)
}

// Appends to `msg`, so that a routed reply costs no second array.
function clientReply (msg: Buffer[], envelope: ReplyEnvelope, status: number, body: readonly Buffer[]): Buffer[] {
  msg.push(EMPTY)
  if (envelope.dialect === 'nsz') {
    msg.push(NSZC_FRAME, envelope.requestId, encodeStatus(status))
    return pushed(msg, body)
  }
  if (envelope.dialect === 'mdp') msg.push(MDPC_FRAME, Buffer.from(envelope.service))
  // The req and mdp dialects carry no status: a failure is one ERROR frame.
  if (status !== Status.OK) msg.push(errorFrame(status, body))
  else pushed(msg, body)
  return msg
}

const ERROR_PREFIX = Buffer.from('ERROR ')

/** A failure as the `req` and `mdp` dialects carry it: one frame `ERROR <status> <message>`. */
export interface ErrorFrame {
  readonly status: number
  readonly message: string
}

/**
 * Reads the one-frame failure of the `req` and `mdp` dialects (`ERROR <status> <message>`),
 * as a REQ client receives it; `undefined` when the reply is not one. Only a reply of
 * exactly one frame can be a failure.
 */
export function decodeErrorFrame (msg: readonly Buffer[]): ErrorFrame | undefined {
  if (msg.length !== 1) return undefined
  const frame = msg[0]!
  if (frame.length < 10 || frame.compare(ERROR_PREFIX, 0, 6, 0, 6) !== 0 || frame[9] !== 0x20) return undefined
  const status = decodeStatus(frame.subarray(6, 9))
  if (status === undefined || status === Status.OK) return undefined
  return { status, message: frame.toString('utf8', 10) }
}

/** Encodes a request in the project's dialect, as a DEALER client sends it. */
export function encodeNszRequest (service: string, requestId: Buffer, body: Body): Buffer[] {
  return [EMPTY, NSZC_FRAME, Buffer.from(service), requestId, ...frames(body)]
}

/** Encodes a request in the MDP/0.1 client dialect, as a REQ or DEALER client sends it. */
export function encodeMdpRequest (service: string, body: Body): Buffer[] {
  return [EMPTY, MDPC_FRAME, Buffer.from(service), ...frames(body)]
}

/**
 * The dialect of a reply as a REQ socket reads it (no empty delimiter), which clients
 * name when it is not the one they sent: `mdp` (`MDPC01` first), `nsz` or `req`.
 */
export function replyDialect (reply: readonly Buffer[]): 'req' | 'mdp' | 'nsz' {
  const first = reply[0]
  if (first?.equals(MDPC_FRAME) === true) return 'mdp'
  return first?.equals(NSZC_FRAME) === true ? 'nsz' : 'req'
}

/** A reply in the project's dialect, as a client reads it. */
export interface NszReply {
  readonly requestId: Buffer
  readonly status: number
  readonly body: Buffer[]
}

/** Decodes a reply in the project's dialect, as a DEALER client receives it. */
export function decodeNszReply (msg: readonly Buffer[]): Decoded<NszReply> {
  if (msg.length < 4 || msg[0]!.length !== 0 || !msg[1]!.equals(NSZC_FRAME)) {
    return { error: `not a ${NSZC} reply` }
  }
  const status = decodeStatus(msg[3])
  if (status === undefined) return { error: `${NSZC} reply has no valid status frame` }
  return { requestId: msg[2]!, status, body: msg.slice(4) }
}
