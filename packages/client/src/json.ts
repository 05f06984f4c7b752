/**
 * JSON on top of the clients: encode the request, decode the reply. Nothing else
 * changes: options, retries and errors are the client's.
 */

import type { Client } from './client.js'
import { badReplyError } from './errors.js'
import type { LazyPirateClient } from './lazy-pirate-client.js'
import type { RequestOptions } from './options.js'

/** Encodes a value as one JSON frame; throws a TypeError for a value JSON cannot carry. */
export function encodeJson (value: unknown): Buffer {
  const json = JSON.stringify(value)
  if (json === undefined) throw new TypeError('value must be JSON-serializable (got undefined, a function or a symbol)')
  return Buffer.from(json)
}

/**
 * Decodes a JSON reply (its frames joined). A reply that is not JSON rejects with
 * `NSZ_ERR_CLIENT_BAD_REPLY`, the parse error as its cause.
 */
export function decodeJson<T = unknown> (frames: readonly Buffer[]): T {
  const text = frames.length === 1 ? frames[0]!.toString() : Buffer.concat(frames as Buffer[]).toString()
  try {
    return JSON.parse(text) as T
  } catch (err) {
    throw badReplyError(`reply is not JSON: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Sends `value` as JSON to `service` with a {@link Client} and resolves with the
 * decoded reply.
 *
 * @example
 * ```ts
 * const sum = await requestJson<number>(client, 'add', [1, 2])
 * ```
 */
export async function requestJson<T = unknown> (client: Client, service: string, value: unknown, options?: RequestOptions): Promise<T> {
  return decodeJson<T>(await client.request(service, encodeJson(value), options))
}

/** The same as {@link requestJson} with a {@link LazyPirateClient}. */
export async function requestJsonLazy<T = unknown> (client: LazyPirateClient, value: unknown, options?: RequestOptions): Promise<T> {
  return decodeJson<T>(await client.request(encodeJson(value), options))
}

/** A {@link Client} bound to JSON: what {@link jsonClient} returns. */
export interface JsonClient {
  /** Sends `value` as JSON to `service` and resolves with the decoded reply. */
  request<T = unknown>(service: string, value: unknown, options?: RequestOptions): Promise<T>
  /** The client underneath. */
  readonly client: Client
}

/**
 * Wraps a {@link Client} so that requests take and return JSON values.
 *
 * @example
 * ```ts
 * const api = jsonClient(new Client({ endpoint }))
 * const user = await api.request<{ name: string }>('users.get', { id: 7 })
 * ```
 */
export function jsonClient (client: Client): JsonClient {
  return {
    client,
    request: <T = unknown>(service: string, value: unknown, options?: RequestOptions) => requestJson<T>(client, service, value, options)
  }
}
