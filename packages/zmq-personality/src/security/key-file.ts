/**
 * CURVE key files. Two formats are read:
 *
 * - JSON: `{ "publicKey": "<Z85>", "secretKey": "<Z85>" }`, the format that
 *   {@link writeKeyFile} writes; a public certificate leaves out `secretKey`.
 * - ZPL certificates as czmq's `zcert` and pyzmq's `zmq.auth.create_certificates`
 *   write them: a `curve` section with `public-key = "..."` and, in the secret
 *   file, `secret-key = "..."`. `#` starts a comment.
 */

import { open, writeFile } from 'node:fs/promises'
import { curvePublicKey, isCurveKey } from './curve.js'
import { keyFileError } from '../errors.js'

/** The keys of a key file: always a public key, and the secret key when the file holds one. */
export interface CurveKeyFile {
  /** Z85 public key. */
  readonly publicKey: string
  /** Z85 secret key, in a secret key file only. */
  readonly secretKey?: string
}

/**
 * Reads a key file in either format and checks its keys. A file with only a secret
 * key gets its public key derived; a file whose keys do not belong together, that
 * cannot be read, or that holds a secret key and is readable by its group or by
 * others (see {@link checkKeyFileMode}) rejects with `NSZ_ERR_KEY_FILE`.
 */
export async function readKeyFile (file: string): Promise<CurveKeyFile> {
  let text: string
  let mode: number
  try {
    // The mode and the text come from the one open file, not from two lookups of its name.
    const handle = await open(file, 'r')
    try {
      mode = (await handle.stat()).mode
      text = await handle.readFile('utf8')
    } finally {
      await handle.close()
    }
  } catch (err) {
    throw keyFileError(file, `cannot be read (${err instanceof Error ? err.message : String(err)})`, err)
  }
  const fields = /^[{[]/.test(text.trimStart()) ? parseJson(file, text) : parseZpl(text)
  const keys = checkKeys(file, fields)
  if (keys.secretKey !== undefined) checkKeyFileMode(file, mode)
  return keys
}

/**
 * Throws `NSZ_ERR_KEY_FILE` when `mode` (a file's `stat().mode`) lets the file's group
 * or others read it: called for files that hold a secret key, which only their owner
 * may read (`chmod 600`). Public certificates may be readable by anyone. A no-op on
 * Windows, whose files have no such mode bits.
 */
export function checkKeyFileMode (file: string, mode: number, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32' || (mode & 0o044) === 0) return
  const octal = (mode & 0o777).toString(8).padStart(4, '0')
  const who = (mode & 0o040) !== 0 && (mode & 0o004) !== 0 ? 'its group and others' : (mode & 0o040) !== 0 ? 'its group' : 'others'
  throw keyFileError(file, `holds a secret key but ${who} can read it (mode ${octal}): run chmod 600 ${file}`)
}

/**
 * Writes `keys` as a JSON key file. A file with a secret key is created readable by
 * its owner only (mode 0600) and is never overwritten: remove the old one first.
 */
export async function writeKeyFile (file: string, keys: CurveKeyFile): Promise<void> {
  const checked = checkKeys(file, keys)
  const body = checked.secretKey === undefined
    ? { publicKey: checked.publicKey }
    : { publicKey: checked.publicKey, secretKey: checked.secretKey }
  const secret = checked.secretKey !== undefined
  try {
    await writeFile(file, JSON.stringify(body, null, 2) + '\n', { mode: secret ? 0o600 : 0o644, flag: secret ? 'wx' : 'w' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw keyFileError(file, 'already exists, and a key file is never overwritten: remove it first or choose another name', err)
    throw keyFileError(file, `cannot be written (${err instanceof Error ? err.message : String(err)})`, err)
  }
}

function parseJson (file: string, text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw keyFileError(file, 'is not valid JSON', err)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw keyFileError(file, 'must hold a JSON object')
  return value as Record<string, unknown>
}

// name, then an optional value (Z85 keys may hold '#', so a comment starts only outside quotes).
const ZPL_LINE = /^(\s*)([A-Za-z0-9$\-_@.&+/]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s#]*)))?\s*(?:#.*)?$/

/** Reads the `public-key` and `secret-key` of a ZPL certificate's `curve` section. */
function parseZpl (text: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  let section: string | undefined
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue
    const match = ZPL_LINE.exec(raw)
    if (match === null) continue
    const [, indent = '', name = '', dq, sq, bare] = match
    if (indent === '') {
      section = name
      continue
    }
    if (section !== 'curve') continue
    const value = dq ?? sq ?? bare
    if (name === 'public-key') fields['publicKey'] = value
    if (name === 'secret-key') fields['secretKey'] = value
  }
  return fields
}

function checkKeys (file: string, fields: { readonly publicKey?: unknown, readonly secretKey?: unknown }): CurveKeyFile {
  const { publicKey, secretKey } = fields
  if (secretKey !== undefined && !isCurveKey(secretKey)) throw keyFileError(file, 'secretKey must be a 40-character Z85 key')
  if (publicKey !== undefined && !isCurveKey(publicKey)) throw keyFileError(file, 'publicKey must be a 40-character Z85 key')
  if (secretKey === undefined) {
    if (publicKey === undefined) throw keyFileError(file, 'holds no publicKey nor secretKey')
    return { publicKey }
  }
  const derived = curvePublicKey(secretKey)
  if (publicKey !== undefined && publicKey !== derived) throw keyFileError(file, 'publicKey does not belong to secretKey')
  return { publicKey: derived, secretKey }
}
