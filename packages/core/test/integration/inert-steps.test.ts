import { afterEach, describe, expect, it } from 'vitest'
import { Server, isInert, markInert } from '@net-server/core'
import { LineServer, request, start, type LineRequest } from '../support/line-server.js'

// The empty per-request steps cost a request nothing: runClientConnection skips a step
// that is still the one marked inert, and runs any override, even an empty one.

const servers: Server<any, any>[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(async (s) => await s.close()))
})

const STEPS = ['postAccept', 'getClientInfo', 'postProcessRequest', 'postAcceptHook', 'allowDenyHook', 'requestDeniedHook', 'postProcessRequestHook', 'postClientConnectionHook'] as const

describe('markInert and isInert', () => {
  it('mark a function and tell it apart from any other', () => {
    const empty = (): void => {}
    const other = (): void => {}
    markInert(empty)
    expect(isInert(empty)).toBe(true)
    expect(isInert(other)).toBe(false)
    // A marked method stays marked in a subclass that does not override it.
    class Base { step (): void {} }
    markInert(Base.prototype.step)
    class Sub extends Base {}
    class Override extends Base { override step (): void {} }
    expect(isInert(new Sub().step)).toBe(true)
    expect(isInert(new Override().step)).toBe(false)
  })

  it('mark the empty steps of the core server, and not the steps with a body', () => {
    const steps = Server.prototype as unknown as Record<string, object>
    for (const step of STEPS) expect(isInert(steps[step]!), step).toBe(true)
    // allowDeny applies the access rules; processRequest and accept are the personality's.
    expect(isInert(steps.allowDeny!)).toBe(false)
    expect(isInert(steps.runClientConnection!)).toBe(false)
  })
})

/** Counts the calls of each step it overrides with an empty body. */
class EmptyOverrides extends LineServer {
  readonly calls = new Map<string, number>()
  admit = true
  #count (step: string): void { this.calls.set(step, (this.calls.get(step) ?? 0) + 1) }
  protected override async postAccept (_r: LineRequest): Promise<void> { this.#count('postAccept') }
  protected override async postAcceptHook (_r: LineRequest): Promise<void> { this.#count('postAcceptHook') }
  protected override async allowDenyHook (_r: LineRequest): Promise<boolean> { this.#count('allowDenyHook'); return this.admit }
  protected override async requestDeniedHook (_r: LineRequest): Promise<void> { this.#count('requestDeniedHook') }
  protected override async postProcessRequestHook (_r: LineRequest): Promise<void> { this.#count('postProcessRequestHook') }
  protected override async postClientConnectionHook (_r: LineRequest): Promise<void> { this.#count('postClientConnectionHook') }
}

describe('a request', () => {
  it('runs every step a class overrides, even an empty one, once each', async () => {
    const server = new EmptyOverrides({ argv: false, handleSignals: false, logLevel: 0 })
    servers.push(server)
    const { endpoints } = await start(server)
    expect(await request(endpoints[0]!, 'a')).toBe('echo: a\n')
    expect(await request(endpoints[0]!, 'b')).toBe('echo: b\n')
    expect(Object.fromEntries(server.calls)).toEqual({ postAccept: 2, postAcceptHook: 2, allowDenyHook: 2, postProcessRequestHook: 2, postClientConnectionHook: 2 })
    // An override that refuses still refuses: requestDeniedHook runs instead of processRequest.
    server.admit = false
    expect(await request(endpoints[0]!, 'c')).not.toContain('echo')
    expect(server.calls.get('requestDeniedHook')).toBe(1)
  })

  it('is served by a class that overrides no step at all', async () => {
    const server = new LineServer({ argv: false, handleSignals: false, logLevel: 0 })
    servers.push(server)
    const { endpoints } = await start(server)
    expect(await request(endpoints[0]!, 'x')).toBe('echo: x\n')
  })
})
