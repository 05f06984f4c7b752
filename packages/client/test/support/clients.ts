/** The clients of this package in tests, each closed when its test ends. */
import { closing } from '@net-server/test-support'
import { Client, LazyPirateClient, type ClientOptions, type LazyPirateClientOptions } from '../../src/index.js'

/** A {@link LazyPirateClient}, closed when the test ends. */
export const lazyClient = (options: LazyPirateClientOptions): LazyPirateClient => closing(new LazyPirateClient(options))

/** A pipelining {@link Client}, closed when the test ends. */
export const pipelinedClient = (options: ClientOptions): Client => closing(new Client(options))
