import { describe, expect, it } from 'vitest'
import { Dealer, Request, Router, curveKeyPair, type Context } from 'zeromq'
import { AccessControl } from '@net-server/core'
import { text, track, within } from '@net-server/test-support'
import { applyCurveClient, curveServerSocketOptions } from '../../src/security/curve.js'
import { ZmqErrorCodes } from '../../src/errors.js'
import { ZAP_ENDPOINT, ZapHandler, zapSocketOptions, type ZapDecision, type ZapRequest } from '../../src/security/zap-handler.js'
import { createZapPolicy } from '../../src/security/zap-policy.js'
import { freshContext, nextSocketEvent, nextZapEvent, startZap } from '../support/zap.js'

const server = curveKeyPair()

/** A CURVE ROUTER on loopback with the given ZAP domain. */
async function curveRouter (context: Context, domain = 'frontend'): Promise<Router> {
  const router = track(new Router({ context, linger: 0, ...curveServerSocketOptions({ secretKey: server.secretKey }), ...zapSocketOptions(domain) }))
  await router.bind('tcp://127.0.0.1:*')
  return router
}

function curveDealer (context: Context, router: Router, keys = curveKeyPair()): Dealer {
  const dealer = track(new Dealer({ context, linger: 0 }))
  applyCurveClient(dealer, { serverKey: server.publicKey, ...keys })
  dealer.connect(router.lastEndpoint!)
  return dealer
}

function nextDecision (zap: ZapHandler): Promise<[ZapRequest, ZapDecision]> {
  return nextZapEvent(zap, 'decision')
}

describe('ZapHandler with CURVE', () => {
  it('admits a client whose public key is on the allow-list: REQ and DEALER round trips', async () => {
    const context = freshContext()
    const client = curveKeyPair()
    const zap = await startZap({ context, authorize: createZapPolicy({ clientKeys: [client.publicKey] }) })
    const router = await curveRouter(context)

    const decided = nextDecision(zap)
    const req = track(new Request({ context, linger: 0 }))
    applyCurveClient(req, { serverKey: server.publicKey, ...client })
    req.connect(router.lastEndpoint!)
    await req.send('ping')
    const [id, empty, body] = await within(router.receive(), 5000, 'router receive')
    expect(text([empty!, body!])).toEqual(['', 'ping'])
    await router.send([id!, '', 'pong'])
    expect(text(await within(req.receive(), 5000, 'REQ reply'))).toEqual(['pong'])

    const [request, decision] = await decided
    expect(request).toMatchObject({ domain: 'frontend', address: '127.0.0.1', mechanism: 'CURVE', publicKey: client.publicKey })
    expect(decision).toEqual({ allowed: true, status: 200, text: 'OK' })

    const dealer = curveDealer(context, router, client)
    await dealer.send('hello')
    const [peer, hello] = await within(router.receive(), 5000, 'router receive')
    expect(hello!.toString()).toBe('hello')
    await router.send([peer!, 'world'])
    expect(text(await within(dealer.receive(), 5000, 'DEALER reply'))).toEqual(['world'])
  })

  it('refuses a client with an unknown public key: its handshake fails and nothing of it reaches the ROUTER', async () => {
    const context = freshContext()
    const friend = curveKeyPair()
    const zap = await startZap({ context, authorize: createZapPolicy({ clientKeys: [friend.publicKey] }) })
    const router = await curveRouter(context)
    const routerRefused = nextSocketEvent(router, 'handshake:error:auth')

    const stranger = curveKeyPair()
    const decided = nextDecision(zap)
    const intruder = track(new Dealer({ context, linger: 0 }))
    applyCurveClient(intruder, { serverKey: server.publicKey, ...stranger })
    const refused = nextSocketEvent(intruder, 'handshake:error:auth')
    intruder.connect(router.lastEndpoint!)
    await intruder.send('intruder')

    const [request, decision] = await decided
    expect(request.publicKey).toBe(stranger.publicKey)
    expect(decision).toEqual({ allowed: false, status: 400, text: 'access denied' })
    expect((await refused).error.status).toBe(400)
    expect((await routerRefused).error.status).toBe(400)

    // The first message the ROUTER receives is the admitted client's, sent after the refusal.
    const dealer = curveDealer(context, router, friend)
    await dealer.send('friend')
    expect(text((await within(router.receive(), 5000, 'router receive')).slice(1))).toEqual(['friend'])
  })

  it('refuses a client without CURVE: the mechanisms do not match and the handler is not asked', async () => {
    const context = freshContext()
    const zap = await startZap({ context, authorize: () => true })
    const decisions: ZapRequest[] = []
    zap.on('decision', (request) => decisions.push(request))
    const router = await curveRouter(context)
    const routerFailed = nextSocketEvent(router, 'handshake:error:protocol')

    const plain = track(new Dealer({ context, linger: 0 }))
    const failed = nextSocketEvent(plain, 'handshake:error:protocol')
    plain.connect(router.lastEndpoint!)
    await plain.send('in clear')
    expect((await failed).error.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH')
    expect((await routerFailed).error.code).toBe('ERR_ZMTP_MECHANISM_MISMATCH')

    const dealer = curveDealer(context, router)
    await dealer.send('encrypted')
    expect(text((await within(router.receive(), 5000, 'router receive')).slice(1))).toEqual(['encrypted'])
    expect(decisions.map((d) => d.mechanism)).toEqual(['CURVE'])
  })

  it('admits workers on the backend by their key and refuses the same key on the frontend', async () => {
    const context = freshContext()
    const worker = curveKeyPair()
    const client = curveKeyPair()
    const zap = await startZap({ context, authorize: createZapPolicy({ clientKeys: [client.publicKey], workerKeys: [worker.publicKey] }) })
    const frontend = await curveRouter(context, 'frontend')
    const backend = await curveRouter(context, 'backend')

    const admitted = nextDecision(zap)
    const dealer = curveDealer(context, backend, worker)
    await dealer.send('ready')
    expect(text((await within(backend.receive(), 5000, 'backend receive')).slice(1))).toEqual(['ready'])
    expect((await admitted)[0].domain).toBe('backend')

    const refusedDecision = nextDecision(zap)
    const wrongSide = track(new Dealer({ context, linger: 0 }))
    applyCurveClient(wrongSide, { serverKey: server.publicKey, ...worker })
    const refused = nextSocketEvent(wrongSide, 'handshake:error:auth')
    wrongSide.connect(frontend.lastEndpoint!)
    expect((await refused).error.status).toBe(400)
    expect((await refusedDecision)[0]).toMatchObject({ domain: 'frontend', publicKey: worker.publicKey })
  })
})

describe('ZapHandler with NULL', () => {
  it('applies an address deny rule to a plain client when the socket has a zapDomain', async () => {
    const context = freshContext()
    const access = new AccessControl({ allow: [], deny: [], cidrAllow: [], cidrDeny: ['127.0.0.0/8'] })
    const zap = await startZap({ context, authorize: createZapPolicy({ allowAddress: ({ address }) => access.allows({ address }) }) })
    const router = track(new Router({ context, linger: 0, ...zapSocketOptions('frontend') }))
    await router.bind('tcp://127.0.0.1:*')

    const decided = nextDecision(zap)
    const req = track(new Request({ context, linger: 0 }))
    const refused = nextSocketEvent(req, 'handshake:error:auth')
    req.connect(router.lastEndpoint!)
    await req.send('let me in')
    const [request, decision] = await decided
    expect(request).toMatchObject({ domain: 'frontend', address: '127.0.0.1', mechanism: 'NULL' })
    expect(request.publicKey).toBeUndefined()
    expect(decision.status).toBe(400)
    expect((await refused).error.status).toBe(400)
  })

  it('is not asked for a plain client of a socket without a zapDomain', async () => {
    const context = freshContext()
    const zap = await startZap({ context, authorize: () => false })
    const decisions: ZapRequest[] = []
    zap.on('decision', (request) => decisions.push(request))
    const router = track(new Router({ context, linger: 0 }))
    await router.bind('tcp://127.0.0.1:*')
    const dealer = track(new Dealer({ context, linger: 0 }))
    dealer.connect(router.lastEndpoint!)
    await dealer.send('unchecked')
    expect(text((await within(router.receive(), 5000, 'router receive')).slice(1))).toEqual(['unchecked'])
    expect(decisions).toEqual([])
  })
})

describe('ZapHandler failures', () => {
  it('refuses with 500 when authorize throws, logs it, and serves the next request', async () => {
    const context = freshContext()
    const logged: Array<[number, string]> = []
    const client = curveKeyPair()
    let calls = 0
    const zap = await startZap({
      context,
      log: (level, message) => logged.push([level, message]),
      authorize: (request) => {
        if (++calls === 1) throw new Error('policy store unreachable')
        return request.publicKey === client.publicKey
      }
    })
    const router = await curveRouter(context)

    const failedDecision = nextDecision(zap)
    const first = track(new Dealer({ context, linger: 0 }))
    applyCurveClient(first, { serverKey: server.publicKey, ...client })
    const refused = nextSocketEvent(first, 'handshake:error:auth')
    first.connect(router.lastEndpoint!)
    expect((await refused).error.status).toBe(500)
    expect((await failedDecision)[1]).toEqual({ allowed: false, status: 500, text: 'authentication failure' })
    expect(logged).toContainEqual([0, 'ZAP decision failed, peer refused'])

    const second = curveDealer(context, router, client)
    await second.send('next')
    expect(text((await within(router.receive(), 5000, 'router receive')).slice(1))).toEqual(['next'])
  })

  it('refuses with 500 when authorize takes longer than the timeout, and serves the next request', async () => {
    const context = freshContext()
    let calls = 0
    const zap = await startZap({
      context,
      timeout: 100,
      log: () => {},
      authorize: async () => ++calls === 1 ? await new Promise<boolean>(() => {}) : true
    })
    const router = await curveRouter(context)
    const slow = track(new Dealer({ context, linger: 0 }))
    applyCurveClient(slow, { serverKey: server.publicKey })
    const refused = nextSocketEvent(slow, 'handshake:error:auth')
    const decided = nextDecision(zap)
    slow.connect(router.lastEndpoint!)
    expect((await decided)[1].status).toBe(500)
    expect((await refused).error.status).toBe(500)

    const next = curveDealer(context, router)
    await next.send('after the slow one')
    expect(text((await within(router.receive(), 5000, 'router receive')).slice(1))).toEqual(['after the slow one'])
  })
})

/** Speaks RFC 27 to the handler directly, as libzmq does, over inproc. */
function zapRequester (context: Context): Dealer {
  const dealer = track(new Dealer({ context, linger: 0 }))
  dealer.connect(ZAP_ENDPOINT)
  return dealer
}

describe('ZapHandler protocol', () => {
  it('answers in the order of the requests even when a later decision is faster', async () => {
    const context = freshContext()
    let releaseFirst!: (allowed: boolean) => void
    let secondAsked!: () => void
    const secondSeen = new Promise<void>((resolve) => { secondAsked = resolve })
    await startZap({
      context,
      authorize: (request) => {
        if (request.identity === 'first') return new Promise<boolean>((resolve) => { releaseFirst = resolve })
        secondAsked()
        return true
      }
    })
    const requester = zapRequester(context)
    await requester.send(['', '1.0', 'r1', 'd', '10.0.0.1', 'first', 'NULL'])
    await requester.send(['', '1.0', 'r2', 'd', '10.0.0.2', 'second', 'NULL'])
    await within(secondSeen, 5000, 'second decision')
    releaseFirst(false)
    expect(text(await within(requester.receive(), 5000, 'first answer'))).toEqual(['', '1.0', 'r1', '400', 'access denied', '', ''])
    expect(text(await within(requester.receive(), 5000, 'second answer'))).toEqual(['', '1.0', 'r2', '200', 'OK', '', ''])
  })

  it('sends the peer\'s key as the user id of an admitted CURVE peer', async () => {
    const context = freshContext()
    await startZap({ context, authorize: () => true })
    const key = Buffer.alloc(32, 7)
    const requester = zapRequester(context)
    await requester.send(['', '1.0', 'r1', 'd', '10.0.0.1', '', 'CURVE', key])
    const answer = text(await within(requester.receive(), 5000, 'answer'))
    expect(answer.slice(0, 5)).toEqual(['', '1.0', 'r1', '200', 'OK'])
    expect(answer[5]).toHaveLength(40)
  })

  it.each([
    ['a wrong version', ['', '2.0', 'r9', 'd', '10.0.0.1', '', 'NULL'], 'version must be 1.0'],
    ['too few frames', ['', '1.0', 'r9', 'd'], 'too few frames'],
    ['an unknown mechanism', ['', '1.0', 'r9', 'd', '10.0.0.1', '', 'GSSAPI'], "unknown mechanism 'GSSAPI'"],
    ['a CURVE key of the wrong length', ['', '1.0', 'r9', 'd', '10.0.0.1', '', 'CURVE', 'short'], 'wrong credentials for CURVE'],
    ['PLAIN without a password', ['', '1.0', 'r9', 'd', '10.0.0.1', '', 'PLAIN', 'user'], 'wrong credentials for PLAIN'],
    ['NULL with credentials', ['', '1.0', 'r9', 'd', '10.0.0.1', '', 'NULL', 'extra'], 'wrong credentials for NULL']
  ])('answers a request with %s with 400 and keeps serving', async (_name, frames, reason) => {
    const context = freshContext()
    const zap = await startZap({ context, authorize: () => true, log: () => {} })
    const malformed = nextZapEvent(zap, 'malformed')
    const requester = zapRequester(context)
    await requester.send(frames)
    const answer = text(await within(requester.receive(), 5000, 'answer'))
    expect(answer.slice(0, 4)).toEqual(['', '1.0', 'r9', '400'])
    expect(answer[4]).toBe(`malformed request: ${reason}`)
    expect(await malformed).toEqual([reason])
    await requester.send(['', '1.0', 'ok', 'd', '10.0.0.1', '', 'NULL'])
    expect(text(await within(requester.receive(), 5000, 'answer')).slice(2, 4)).toEqual(['ok', '200'])
  })

  it('passes the PLAIN user name and password to authorize', async () => {
    const context = freshContext()
    await startZap({ context, authorize: (r) => r.username === 'admin' && r.password === 'secret' })
    const requester = zapRequester(context)
    await requester.send(['', '1.0', 'a', 'd', '10.0.0.1', '', 'PLAIN', 'admin', 'secret'])
    expect(text(await within(requester.receive(), 5000, 'answer')).slice(2, 6)).toEqual(['a', '200', 'OK', 'admin'])
    await requester.send(['', '1.0', 'b', 'd', '10.0.0.1', '', 'PLAIN', 'admin', 'guess'])
    expect(text(await within(requester.receive(), 5000, 'answer')).slice(2, 6)).toEqual(['b', '400', 'access denied', ''])
  })
})

describe('ZapHandler lifecycle', () => {
  it('serves sockets of the shared default context when none is given', async () => {
    const client = curveKeyPair()
    const zap = await startZap({ authorize: createZapPolicy({ clientKeys: [client.publicKey] }) })
    expect(zap.running).toBe(true)
    const router = track(new Router({ linger: 0, ...curveServerSocketOptions({ secretKey: server.secretKey }), ...zapSocketOptions('frontend') }))
    await router.bind('tcp://127.0.0.1:*')
    const decided = nextDecision(zap)
    const dealer = track(new Dealer({ linger: 0 }))
    applyCurveClient(dealer, { serverKey: server.publicKey, ...client })
    dealer.connect(router.lastEndpoint!)
    await dealer.send('default context')
    expect(text((await within(router.receive(), 5000, 'router receive')).slice(1))).toEqual(['default context'])
    expect((await decided)[1].allowed).toBe(true)
  })

  it('allows one handler per context and refuses a second start, also after close', async () => {
    const context = freshContext()
    const zap = await startZap({ context, authorize: () => true })
    await expect(zap.start()).rejects.toMatchObject({ code: ZmqErrorCodes.ZAP_STATE })

    const rival = new ZapHandler({ context, authorize: () => true })
    await expect(rival.start()).rejects.toMatchObject({ code: ZmqErrorCodes.ZAP_BIND, cause: { code: 'EADDRINUSE' } })
    expect(rival.running).toBe(false)

    // The handler of another context answers its own requesters.
    const elsewhere = freshContext()
    await startZap({ context: elsewhere, authorize: () => true })
    const requester = zapRequester(elsewhere)
    await requester.send(['', '1.0', 'r1', 'd', '10.0.0.1', '', 'NULL'])
    expect(text(await within(requester.receive(), 5000, 'answer')).slice(2, 4)).toEqual(['r1', '200'])

    await zap.close()
    expect(zap.running).toBe(false)
    await expect(zap.start()).rejects.toMatchObject({ code: ZmqErrorCodes.ZAP_STATE })
    await zap.close()
  })

  it.each([
    [{}, TypeError, 'options.authorize must be a function'],
    [{ authorize: (): boolean => true, timeout: 0 }, RangeError, 'options.timeout must be a number of milliseconds > 0 and at most 2147483647'],
    [{ authorize: (): boolean => true, timeout: Number.NaN }, RangeError, 'options.timeout must be a number of milliseconds > 0 and at most 2147483647'],
    [{ authorize: (): boolean => true, log: 'stderr' }, TypeError, 'options.log must be a function']
  ])('refuses bad options %#', (options, Type, message) => {
    expect(() => new ZapHandler(options as never)).toThrow(new Type(message))
  })
})

describe('zapSocketOptions', () => {
  it.each([
    ['', TypeError, 'options.zapDomain must be a non-empty string'],
    [42, TypeError, 'options.zapDomain must be a non-empty string'],
    ['x'.repeat(256), RangeError, 'options.zapDomain must be at most 255 bytes long']
  ])('refuses %j', (domain, Type, message) => {
    expect(() => zapSocketOptions(domain as string)).toThrow(new Type(message))
  })
})
