/**
 * `nsz keygen`: a fresh CURVE key pair, printed or written as a key file.
 */
import { generateCurveKeyPair } from './curve.js'
import { writeKeyFile } from './key-file.js'

/** What `nsz keygen` was asked for. */
export interface KeygenOptions {
  /** Write the pair to this file (mode 0600, never overwritten) instead of printing it. */
  readonly out?: string | undefined
  /** Print two lines of text instead of JSON (without `out`). */
  readonly text?: boolean | undefined
}

/**
 * Makes a key pair and resolves with what `nsz keygen` prints. Without `out`: the pair
 * as JSON, the format `--curve-key-file` reads (or, with `text`, two lines
 * `public-key <Z85>` and `secret-key <Z85>`). With `out`: writes the pair there with
 * {@link writeKeyFile} and prints the public key alone, the one to give to peers
 * (`--worker-keys`, `--client-keys`, `--curve-server-key`). An existing file rejects
 * with `NSZ_ERR_KEY_FILE`, and the file is left as it was.
 */
export async function keygen (options: KeygenOptions = {}): Promise<string> {
  const pair = generateCurveKeyPair()
  if (options.out !== undefined) {
    await writeKeyFile(options.out, pair)
    return `${pair.publicKey}\n`
  }
  if (options.text === true) return `public-key ${pair.publicKey}\nsecret-key ${pair.secretKey}\n`
  return `${JSON.stringify({ publicKey: pair.publicKey, secretKey: pair.secretKey }, null, 2)}\n`
}
