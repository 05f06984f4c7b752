/**
 * The compact framing of the backend, between the broker and workers of the project:
 * REQUEST and REPLY as one header frame followed by the body frames, agreed in the
 * capability exchange (an ACK with `framing=compact`, taken with a compact HEARTBEAT).
 * The header's first byte is the MDP command, so a message is told from MDP/0.1 (which
 * starts with an empty delimiter) by its first frame alone:
 *
 *     REQUEST   0x02 | id length | job id | service     , body...
 *     REPLY     0x03 | id length | job id | status (2 bytes, big-endian), body...
 *     HEARTBEAT 0x04
 *
 * Every other command keeps its MDP/0.1 frames (`protocol.ts`). `docs/protocol.md`
 * documents the exchange.
 */
import { Command, frame, pushed, type Body, type CommandCode, type Decoded, type Frame, type WorkerMessage } from './protocol.js'

/** The longest job id that the compact header holds (its length is one byte). */
const COMPACT_ID_MAX = 255
const COMPACT_HEARTBEAT_FRAMES: readonly Buffer[] = Object.freeze([Buffer.from([Command.HEARTBEAT])])
const HEARTBEAT: WorkerMessage = Object.freeze({ command: 'heartbeat' })

/** True when `msg` (without the routing id) is in the compact framing: its first frame is not empty. */
export function isCompact (msg: readonly Buffer[]): boolean {
  return msg.length > 0 && msg[0]!.length > 0
}

/** HEARTBEAT in the compact framing: how a worker takes the broker's offer of it. */
export function encodeCompactHeartbeat (): readonly Buffer[] {
  return COMPACT_HEARTBEAT_FRAMES
}

/**
 * REQUEST in the compact framing, as the broker's backend ROUTER sends it: the worker's
 * routing id, the header (command, job id, service), then the body frames.
 */
export function encodeCompactRequestTo (worker: Buffer, jobId: Buffer, body: readonly Buffer[], service: Buffer): Buffer[] {
  const header = compactHeader(Command.REQUEST, jobId, service.length)
  service.copy(header, 2 + jobId.length)
  return pushed([worker, header], body)
}

/** REPLY in the compact framing, from a worker: the header (command, job id, status), then the body frames. */
export function encodeCompactReply (jobId: Buffer, body: Body, status: number): Buffer[] {
  const header = compactHeader(Command.REPLY, jobId, 2)
  header.writeUInt16BE(status, 2 + jobId.length)
  if (typeof body === 'string' || Buffer.isBuffer(body)) return [header, frame(body as Frame)]
  const msg = [header]
  for (let i = 0; i < body.length; i++) msg.push(frame(body[i]!))
  return msg
}

function compactHeader (command: CommandCode, jobId: Buffer, tail: number): Buffer {
  if (jobId.length === 0 || jobId.length > COMPACT_ID_MAX) throw new RangeError(`a compact header holds a job id of 1 to ${COMPACT_ID_MAX} bytes, not ${jobId.length}`)
  const header = Buffer.allocUnsafe(2 + jobId.length + tail)
  header[0] = command
  header[1] = jobId.length
  jobId.copy(header, 2)
  return header
}

/**
 * Decodes a backend message in the compact framing (see {@link isCompact}): REQUEST
 * (the service is always named), REPLY (always with a status) or HEARTBEAT. Any other
 * header is malformed.
 */
export function decodeCompactMessage (msg: readonly Buffer[]): Decoded<WorkerMessage> {
  const header = msg[0]
  if (header === undefined || header.length === 0) return { error: 'compact message needs a header frame' }
  const command = header[0]
  if (command === Command.HEARTBEAT) return header.length === 1 && msg.length === 1 ? HEARTBEAT : { error: 'compact HEARTBEAT is one byte' }
  if (command !== Command.REQUEST && command !== Command.REPLY) return { error: `unknown compact command 0x${command!.toString(16).padStart(2, '0')}` }
  const idLength = header.length > 1 ? header[1]! : 0
  const idEnd = 2 + idLength
  if (idLength === 0 || header.length < idEnd) return { error: 'compact header needs a job id' }
  const jobId = header.subarray(2, idEnd)
  const body = msg.slice(1)
  if (command === Command.REQUEST) {
    if (header.length === idEnd) return { error: 'compact REQUEST needs a service' }
    return { command: 'request', jobId, service: header.toString('utf8', idEnd), body }
  }
  if (header.length !== idEnd + 2) return { error: 'compact REPLY needs a 2-byte status' }
  const status = header.readUInt16BE(idEnd)
  if (status < 100 || status > 999) return { error: `compact REPLY has no valid status (${status})` }
  return { command: 'reply', jobId, status, body }
}
