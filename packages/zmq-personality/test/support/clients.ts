/**
 * The client and interop tests' peers: whether Perl's and Python's ZeroMQ bindings
 * are there, and worker fixture processes registered with a broker.
 */
import { spawnSync } from 'node:child_process'
import { Client, LazyPirateClient, type ClientOptions, type LazyPirateClientOptions } from '@net-server/client'
import { ROOT, closing, nextEvent, startTs, type TestProcess } from '@net-server/test-support'
import type { Broker, WorkerInfo } from '@net-server/zmq'
import { fixture } from './fixture.js'

/** Debian's interpreter, which is where `python3-zmq` installs pyzmq. */
export const PYTHON = '/usr/bin/python3'
export const PERL = 'perl'

/**
 * Whether an interop peer is usable. Without it the tests skip with a clear message,
 * unless `NSZ_REQUIRE_INTEROP=1`: then they run and fail.
 */
export function interopPeer (name: string, command: string, args: readonly string[], install: string): boolean {
  const found = spawnSync(command, args, { stdio: 'ignore' }).status === 0
  if (found || process.env.NSZ_REQUIRE_INTEROP === '1') return true
  console.warn(`${name} interop tests skipped: \`${command} ${args.join(' ')}\` failed (${install}; NSZ_REQUIRE_INTEROP=1 makes this a failure)`)
  return false
}

/** Runs a TypeScript fixture of this package as a real process, its output kept as lines; killed when the test ends. */
export function startTsFixture (name: string, args: readonly string[]): TestProcess {
  return startTs(fixture(name), args, { cwd: ROOT, json: false, timeout: 10_000 })
}

/** Starts the worker fixture (`fixtures/worker.ts`) and resolves once `broker` has registered its pid. */
export async function spawnWorker (broker: Broker, backend: string, services: readonly string[] = []): Promise<TestProcess> {
  const proc = startTsFixture('worker.ts', [backend, ...services])
  await nextEvent(broker, 'workerReady', 20_000, (w: WorkerInfo) => w.pid === proc.pid)
  return proc
}

/** A {@link LazyPirateClient}, closed when the test ends. */
export const lazyClient = (options: LazyPirateClientOptions): LazyPirateClient => closing(new LazyPirateClient(options))

/** A pipelining {@link Client}, closed when the test ends. */
export const pipelinedClient = (options: ClientOptions): Client => closing(new Client(options))
