import { onTestFinished } from 'vitest'
import { Client, type ClientOptions, LazyPirateClient, type LazyPirateClientOptions } from '@net-server/client'
import { FakeBroker } from './fake-broker.js'

/** A fake broker on a fresh loopback port, closed when the test ends. */
export async function startBroker (): Promise<FakeBroker> {
  const broker = await FakeBroker.start()
  onTestFinished(() => broker.close())
  return broker
}

/** An endpoint where nothing listens: a port that was bound and released. */
export async function deadEndpoint (): Promise<string> {
  const broker = await FakeBroker.start()
  broker.close()
  return broker.endpoint
}

export function lazyClient (options: LazyPirateClientOptions): LazyPirateClient {
  const client = new LazyPirateClient(options)
  onTestFinished(() => client.close())
  return client
}

export function pipelinedClient (options: ClientOptions): Client {
  const client = new Client(options)
  onTestFinished(() => client.close())
  return client
}

/** Resolves with what `promise` rejects with; fails when it resolves. */
export async function rejection (promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

export const text = (frames: readonly Buffer[]) => frames.map((f) => f.toString())
