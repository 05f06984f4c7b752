/**
 * A deployment across hosts made of network namespaces ({@link NetLab}): a broker
 * without children on one host, `nsz worker` pools on others, a load client on
 * another, each a real process run with `ip netns exec`. Status is asked over the pid
 * file's `ipc://` socket (a path, reachable from every namespace); metrics are scraped
 * from inside the broker's host.
 */
import { join } from 'node:path'
import { expect } from 'vitest'
import { BUILT_PACKAGES, NetLab, TSX, TestProcess, requireFreshBuild, run, tempDir } from '@net-server/test-support'
import { NSZ, keyPair, statusJson, statusUntil, type StatusJson } from './cli.js'
import { fixture } from './fixture.js'
import { parseSamples, sample, type Samples } from './metrics.js'

/** Heartbeats of the whole deployment: 1 s apart, 8 missed make a peer dead, so the window is 8 s. */
export const HEARTBEAT = { interval: 1, liveness: 8, windowMs: 8000 } as const

const FRONTEND_PORT = 6660
const BACKEND_PORT = 6661
const METRICS_PORT = 9464

/** The hosts, by role: a broker, two pools, a client. */
export const ROLES = ['broker', 'pool-a', 'pool-b', 'clients'] as const
export type Role = typeof ROLES[number]

/** The CURVE key pairs of the deployment, made with `nsz keygen`: the broker's and each pool's. */
interface Keys {
  readonly broker: { readonly file: string, readonly publicKey: string }
  readonly pools: Record<'pool-a' | 'pool-b', { readonly file: string, readonly publicKey: string }>
}

/** A broker, pools and clients on the hosts of a lab; the backend uses CURVE, and admits the two pools' keys only. */
export class Deployment {
  readonly lab = NetLab.create(ROLES)
  readonly dir = tempDir('nsz-hosts-')
  readonly brokerPidFile = join(this.dir, 'broker.pid')
  readonly frontend = `tcp://${this.lab.host('broker').address}:${FRONTEND_PORT}`
  readonly backend = `tcp://${this.lab.host('broker').address}:${BACKEND_PORT}`
  readonly metricsUrl = `http://127.0.0.1:${METRICS_PORT}/metrics`

  readonly #keys: Keys

  private constructor (keys: Keys) {
    this.#keys = keys
  }

  /** Makes the hosts and the keys. */
  static async create (): Promise<Deployment> {
    requireFreshBuild(BUILT_PACKAGES)
    const dir = tempDir('nsz-hosts-keys-')
    const [broker, a, b] = await Promise.all(['broker', 'pool-a', 'pool-b'].map(async (name) => await keyPair(dir, name)))
    return new Deployment({ broker: broker!, pools: { 'pool-a': a!, 'pool-b': b! } })
  }

  /** Starts `node ARGS` on host `role` (named `hostname`, else the runner's name); the process group is killed when the test ends. */
  spawn (role: Role, args: readonly string[], json = false, hostname?: string): TestProcess {
    const { command, args: argv } = this.lab.command(role, [process.execPath, ...args], hostname)
    return new TestProcess(command, argv, { group: true, json, stdin: json })
  }

  /** The broker, with no children of its own, once it is listening. */
  async broker (extra: readonly string[] = []): Promise<TestProcess> {
    const proc = this.spawn('broker', [...NSZ, 'serve', '--min-servers', '0', '--max-servers', '0', '--frontend', this.frontend, '--backend', this.backend,
      '--curve', 'backend', '--curve-key-file', this.#keys.broker.file,
      '--worker-keys', this.#keys.pools['pool-a'].publicKey, '--worker-keys', this.#keys.pools['pool-b'].publicKey, '--heartbeat-interval', String(HEARTBEAT.interval), '--heartbeat-liveness', String(HEARTBEAT.liveness),
      '--metrics-port', String(METRICS_PORT), '--log-level', '1', '--pid-file', this.brokerPidFile, ...extra])
    await proc.line(/^ready workers=0$/)
    return proc
  }

  /** A pool of two workers of two slots on host `role`, whose host name is `role` too, once both serve. */
  async pool (role: 'pool-a' | 'pool-b'): Promise<TestProcess> {
    const proc = this.spawn(role, [...NSZ, 'worker', '--connect', this.backend, '--min-servers', '2', '--min-spare-servers', '0', '--concurrency', '2',
      '--curve-server-key', this.#keys.broker.publicKey, '--curve-key-file', this.#keys.pools[role].file,
      '--heartbeat-interval', String(HEARTBEAT.interval), '--heartbeat-liveness', String(HEARTBEAT.liveness), '--log-level', '1', fixture('cli-app.js')], false, role)
    await proc.line(/^ready workers=2$/)
    return proc
  }

  /**
   * The load client on the clients' host: `inFlight` requests outstanding, each lost past
   * `deadlineMs`; on a bare DEALER (`raw`), or with the package's `Client` (`client`).
   */
  client (inFlight = 8, deadlineMs = 30_000, mode: 'raw' | 'client' = 'raw'): TestProcess {
    return this.spawn('clients', [...TSX, fixture('load-client.ts'), this.frontend, String(inFlight), String(deadlineMs), mode], true)
  }

  /** The broker's status. */
  async status (): Promise<StatusJson> {
    return await statusJson(this.brokerPidFile)
  }

  /** The broker's status once `match` holds. */
  async statusUntil (match: (s: StatusJson) => boolean, what: string, timeout?: number): Promise<StatusJson> {
    return await statusUntil(this.brokerPidFile, match, what, timeout)
  }

  /** Waits until the broker has its four remote workers again, two on each pool's host, and checks it took at most the heartbeat window since `since`. */
  async whole (since: number, what: string): Promise<void> {
    const status = await this.statusUntil((st) => st.remoteWorkers === 4, what, HEARTBEAT.windowMs + 2000)
    expect(Date.now() - since).toBeLessThanOrEqual(HEARTBEAT.windowMs)
    expect(workersByHost(status)).toEqual({ 'pool-a': 2, 'pool-b': 2 })
  }

  /** Scrapes the broker's metrics from inside its host. */
  async metrics (): Promise<Samples> {
    const { command, args } = this.lab.command('broker', [process.execPath, '-e',
      `fetch(${JSON.stringify(this.metricsUrl)}).then((r) => r.text()).then((t) => process.stdout.write(t))`])
    const { code, stdout, stderr } = await run(command, args)
    if (code !== 0) throw new Error(`scraping ${this.metricsUrl} on the broker's host failed: ${stderr}`)
    return parseSamples(stdout)
  }

  /** Removes the hosts (after the processes are gone). */
  close (): void {
    this.lab.close()
  }
}

/** What the load client counted, from its `summary` event. */
export interface LoadSummary {
  readonly sent: number
  readonly ok: number
  readonly wrong: number
  readonly duplicate: number
  readonly lost: number
  readonly errors: Record<string, number>
  readonly maxLatency: number
  /** With the package's `Client`: the copies of replies it dropped, its resends, the connections it lost. */
  readonly late?: number
  readonly retried?: number
  readonly connectionsLost?: number
}

/** Waits until the load client has had `count` good replies in all. */
export async function okCount (client: TestProcess, count: number, timeout = 20_000): Promise<void> {
  await client.event((e) => e.event === 'ok' && (e.count as number) >= count, `${count} good replies`, 0, timeout)
}

/** The good replies the load client has reported so far. */
export function okSoFar (client: TestProcess): number {
  const last = client.events.filter((e) => e.event === 'ok').at(-1)
  return (last?.count as number | undefined) ?? 0
}

/** Stops the load client and reads its summary: every request it sent has had its reply, or its deadline. */
export async function summary (client: TestProcess, timeout = 40_000): Promise<LoadSummary> {
  client.write('stop\n')
  const event = await client.event((e) => e.event === 'summary', 'the load summary', 0, timeout)
  return event as unknown as LoadSummary
}

/**
 * Checks that the load client had one reply to every request (none wrong, none twice,
 * none lost), of which at most `atMost` were typed errors with one of `statuses`;
 * resolves with how many failed.
 */
export function expectAnswered (load: LoadSummary, statuses: readonly string[], atMost: number): number {
  expect(load).toMatchObject({ wrong: 0, duplicate: 0, lost: 0 })
  const failed = Object.values(load.errors).reduce((a, b) => a + b, 0)
  expect(failed).toBeLessThanOrEqual(atMost)
  expect(Object.keys(load.errors).filter((s) => !statuses.includes(s))).toEqual([])
  expect(load.ok + failed).toBe(load.sent)
  return failed
}

/** The broker's remote workers counted by the host each names, e.g. `{ 'pool-a': 2, 'pool-b': 2 }`. */
export function workersByHost (status: StatusJson): Record<string, number> {
  const hosts: Record<string, number> = {}
  for (const w of status.remote) hosts[w.host ?? '-'] = (hosts[w.host ?? '-'] ?? 0) + 1
  return hosts
}

/** Workers the broker dropped for any of `reasons`, from a scrape. */
export function dropped (m: Samples, reasons: readonly string[]): number {
  return reasons.reduce((n, reason) => n + sample(m, `nsz_workers_dropped_total{reason="${reason}"}`), 0)
}
