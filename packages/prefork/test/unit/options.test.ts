import { describe, expect, it } from 'vitest'
import { PreForkServer, type PreForkOptions } from '@net-server/prefork'

/** Resolves options and stops: nothing is bound, no child is spawned. */
class Probe extends PreForkServer {
  protected override async serve (): Promise<void> {}
  protected override async accept (): Promise<undefined> { return undefined }
  protected override async processRequest (): Promise<void> {}
}

async function resolved (options: PreForkOptions): Promise<Probe> {
  const probe = new Probe({ argv: false, handleSignals: false, logLevel: 0, ...options })
  await probe.run()
  return probe
}

describe('options', () => {
  it('has defaults that are valid together, Net::Server::PreFork values where it has them', async () => {
    const { options } = await resolved({})
    expect(options).toMatchObject({
      minServers: 5,
      maxServers: 50,
      minSpareServers: 2,
      maxSpareServers: 10,
      maxRequests: 1000,
      maxRequestsJitter: 0,
      checkForDead: 30_000,
      checkForWaiting: 10_000,
      checkForSpawn: 30_000,
      minChildTtl: 10_000,
      childStartTimeout: 30_000,
      gracefulTimeout: 30_000,
      workerModule: undefined,
      bootFailureLimit: 5,
      bootBackoffBase: 500,
      bootBackoffMax: 30_000
    })
  })

  it("accepts the seed's own example (maxServers 10, default spares), which Net::Server::PreFork refuses", async () => {
    const { options } = await resolved({ minServers: 5, maxServers: 10 })
    expect(options.maxSpareServers).toBe(10)
  })

  it('takes bounds that are equal: a fixed pool, a fixed number of spares, a fixed back-off', async () => {
    const { options } = await resolved({ minServers: 3, maxServers: 3, minSpareServers: 2, maxSpareServers: 2, bootBackoffBase: 1000, bootBackoffMax: 1000 })
    expect(options).toMatchObject({ minServers: 3, maxServers: 3, minSpareServers: 2, maxSpareServers: 2, bootBackoffBase: 1000, bootBackoffMax: 1000 })
  })

  it('accepts a pool of no children (minServers 0, maxServers 0): a broker for remote pools only', async () => {
    const { options } = await resolved({ minServers: 0, maxServers: 0 })
    expect(options).toMatchObject({ minServers: 0, maxServers: 0 })
  })

  it('reads durations from the command line in seconds', async () => {
    const probe = new Probe({ handleSignals: false, logLevel: 0 })
    await probe.run({ argv: ['--check-for-dead', '0.25', '--graceful-timeout', '2', '--min-servers', '3', '--max-requests', '0'] })
    expect(probe.options).toMatchObject({ checkForDead: 250, gracefulTimeout: 2000, minServers: 3, maxRequests: 0 })
  })

  it.each<[string, PreForkOptions, ErrorConstructor, string]>([
    ['a negative minServers', { minServers: -1 }, RangeError, 'options.minServers must be a non-negative integer, got -1'],
    ['a fractional minServers', { minServers: 1.5 }, TypeError, 'options.minServers must be an integer, got 1.5'],
    ['a negative maxServers', { maxServers: -1 }, RangeError, 'options.maxServers must be a non-negative integer, got -1'],
    ['maxServers 0 with the default minServers', { maxServers: 0 }, RangeError, 'options.minServers (5) must not exceed options.maxServers (0): raise maxServers or lower minServers'],
    ['minServers above maxServers', { minServers: 6, maxServers: 4 }, RangeError, 'options.minServers (6) must not exceed options.maxServers (4): raise maxServers or lower minServers'],
    ['minSpareServers above maxSpareServers', { minSpareServers: 5, maxSpareServers: 3 }, RangeError, 'options.minSpareServers (5) must not exceed options.maxSpareServers (3): raise maxSpareServers or lower minSpareServers'],
    ['a negative maxRequests', { maxRequests: -1 }, RangeError, 'options.maxRequests must be a non-negative integer, got -1'],
    ['a string maxRequestsJitter', { maxRequestsJitter: 'x' as unknown as number }, TypeError, "options.maxRequestsJitter must be an integer, got 'x'"],
    ['checkForDead 0', { checkForDead: 0 }, RangeError, 'options.checkForDead must be at least 1 ms, got 0'],
    ['a string checkForWaiting', { checkForWaiting: 'fast' as unknown as number }, TypeError, "options.checkForWaiting must be a duration in milliseconds, got 'fast'"],
    ['a negative checkForSpawn', { checkForSpawn: -5 }, RangeError, 'options.checkForSpawn must be at least 1 ms, got -5'],
    ['a negative minChildTtl', { minChildTtl: -1 }, RangeError, 'options.minChildTtl must be at least 0 ms, got -1'],
    ['childStartTimeout 0', { childStartTimeout: 0 }, RangeError, 'options.childStartTimeout must be at least 1 ms, got 0'],
    ['a NaN gracefulTimeout', { gracefulTimeout: Number.NaN }, TypeError, 'options.gracefulTimeout must be a duration in milliseconds, got NaN'],
    ['an empty workerModule', { workerModule: '' }, RangeError, 'options.workerModule must not be empty'],
    ['a missing workerModule', { workerModule: '/no/such/worker.js' }, RangeError, "options.workerModule: no file '/no/such/worker.js' (resolved to /no/such/worker.js): give the path of the script children run"],
    ['bootFailureLimit 0', { bootFailureLimit: 0 }, RangeError, 'options.bootFailureLimit must be a positive integer, got 0'],
    ['bootBackoffBase above bootBackoffMax', { bootBackoffBase: 5000, bootBackoffMax: 1000 }, RangeError, 'options.bootBackoffBase (5000 ms) must not exceed options.bootBackoffMax (1000 ms): raise bootBackoffMax or lower bootBackoffBase']
  ])('refuses %s', async (_, options, type, message) => {
    const error = await resolved(options).then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(type)
    expect((error as Error).message).toBe(message)
  })

  it('refuses a command-line value that is not a number', async () => {
    const probe = new Probe({ handleSignals: false, logLevel: 0, argv: ['--min-servers', 'many'] })
    await expect(probe.run()).rejects.toThrow(/^options\.minServers must be a number, got 'many'$/)
  })
})
