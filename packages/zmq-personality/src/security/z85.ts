/**
 * Z85 (ZeroMQ RFC 32), the text form of CURVE keys: 4 bytes become 5 printable
 * characters, so a 32-byte key is 40 characters long.
 */

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#'

const DECODE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i

/** Encodes bytes as Z85 text; the length must be a multiple of 4 (libzmq `zmq_z85_encode`). */
export function z85Encode (data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new RangeError(`Z85 encodes a multiple of 4 bytes (got ${data.length})`)
  let text = ''
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i]! << 24) >>> 0) + (data[i + 1]! << 16) + (data[i + 2]! << 8) + data[i + 3]!
    const chunk = new Array<string>(5)
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[value % 85]!
      value = Math.floor(value / 85)
    }
    text += chunk.join('')
  }
  return text
}

/**
 * Decodes Z85 text, or returns `undefined` when it is not Z85: a length that is not a
 * multiple of 5, a character outside the alphabet, or a group above 2^32 - 1
 * (libzmq `zmq_z85_decode` refuses the same).
 */
export function z85Decode (text: string): Buffer | undefined {
  if (text.length % 5 !== 0) return undefined
  const data = Buffer.alloc(text.length / 5 * 4)
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j)
      const digit = code < 128 ? DECODE[code]! : -1
      if (digit < 0) return undefined
      value = value * 85 + digit
    }
    if (value > 0xFFFF_FFFF) return undefined
    data.writeUInt32BE(value, o)
  }
  return data
}
