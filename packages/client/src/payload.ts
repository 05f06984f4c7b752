/**
 * Request payloads as the clients accept them (internal).
 */

import type { Body } from './protocol.js'

/** Turns a payload into frames, or throws a TypeError naming `payload`. */
export function toFrames (payload: Body): Buffer[] {
  if (typeof payload === 'string') return [Buffer.from(payload)]
  if (Buffer.isBuffer(payload)) return [payload]
  if (Array.isArray(payload)) {
    const frames = new Array<Buffer>(payload.length)
    for (let i = 0; i < payload.length; i++) {
      const f: unknown = payload[i]
      if (typeof f === 'string') frames[i] = Buffer.from(f)
      else if (Buffer.isBuffer(f)) frames[i] = f
      else throw new TypeError(`payload[${i}] must be a Buffer or a string`)
    }
    return frames
  }
  throw new TypeError('payload must be a Buffer, a string or an array of them')
}
