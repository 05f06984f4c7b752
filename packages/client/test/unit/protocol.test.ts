import { describe, expect, it } from 'vitest'
import {
  Command, DEFAULT_SERVICE, MDPC, MDPW, NSZC, Status,
  decodeClientRequest, decodeNszReply, decodeStatus, decodeWorkerMessage, encodeClientReply,
  encodeDisconnect, encodeHeartbeat, encodeMdpRequest, encodeNszRequest, encodeReady, encodeReply,
  encodeRequest, isDecodeError, replyEnvelope, statusText, decodeErrorFrame,
  encodeClientReplyTo, encodeDisconnectTo, encodeHeartbeatTo, encodeRequestTo, routedRequestJobId, type ReplyEnvelope,
  NSZ_WORKER_EXTENSION, encodeAck, encodeAckTo, encodeRfc7Reply, ACK_CREDIT, MAX_SLOTS, encodeCredit
} from '@net-server/client'
import { b, text } from '@net-server/test-support'

describe('frontend dialects', () => {
  it('reads a plain REQ request as the default service, multi-frame body whole', () => {
    const req = decodeClientRequest([b(''), b('hello'), b('world')])
    expect(req).toEqual({ dialect: 'req', service: DEFAULT_SERVICE, body: [b('hello'), b('world')] })
  })

  it('reads an MDP/0.1 client request', () => {
    const req = decodeClientRequest(encodeMdpRequest('echo', 'hi'))
    expect(req).toEqual({ dialect: 'mdp', service: 'echo', body: [b('hi')] })
  })

  it('reads a request in the project dialect; an empty service means the default one', () => {
    const id = Buffer.from([0, 1, 2, 3])
    expect(decodeClientRequest(encodeNszRequest('upper', id, ['a', 'b']))).toEqual({
      dialect: 'nsz', service: 'upper', requestId: id, body: [b('a'), b('b')]
    })
    expect(decodeClientRequest(encodeNszRequest('', id, 'x'), 'main')).toMatchObject({ service: 'main' })
  })

  it.each([
    ['an empty message', []],
    ['a missing delimiter', [b('hello')]],
    ['a delimiter alone', [b('')]],
    ['an MDP request without service', [b(''), b(MDPC)]],
    ['a project request without request id', [b(''), b(NSZC), b('svc')]],
    ['a project request with an empty request id', [b(''), b(NSZC), b('svc'), b('')]]
  ])('rejects %s with a reason', (_, msg) => {
    const req = decodeClientRequest(msg)
    expect(isDecodeError(req)).toBe(true)
  })

  it('frames replies for each dialect, errors included', () => {
    const id = b('r1')
    expect(text(encodeClientReply({ dialect: 'nsz', requestId: id }, 504, [b('late')])))
      .toEqual(['', NSZC, 'r1', '504', 'late'])
    expect(text(encodeClientReply({ dialect: 'mdp', service: 'echo' }, 200, [b('x')])))
      .toEqual(['', MDPC, 'echo', 'x'])
    expect(text(encodeClientReply({ dialect: 'req' }, 200, [b('a'), b('b')]))).toEqual(['', 'a', 'b'])
    expect(text(encodeClientReply({ dialect: 'req' }, 503, []))).toEqual(['', `ERROR 503 ${statusText(503)}`])
    expect(text(encodeClientReply({ dialect: 'mdp', service: 's' }, 500, [b('boom')])))
      .toEqual(['', MDPC, 's', 'ERROR 500 boom'])
  })

  it.each<[string, ReplyEnvelope, number, Buffer[]]>([
    ['nsz ok', { dialect: 'nsz', requestId: b('r1') }, 200, [b('a'), b('b')]],
    ['nsz failure', { dialect: 'nsz', requestId: b('r1') }, 504, []],
    ['mdp ok', { dialect: 'mdp', service: 'echo' }, 200, [b('x')]],
    ['mdp failure', { dialect: 'mdp', service: 'echo' }, 500, [b('boom')]],
    ['req ok', { dialect: 'req' }, 200, []],
    ['req failure', { dialect: 'req' }, 503, []]
  ])('frames a routed %s reply as the plain one behind the client\'s routing id', (_, envelope, status, body) => {
    const client = b('\x00client')
    const routed = encodeClientReplyTo(client, envelope, status, body)
    expect(routed[0]).toBe(client)
    expect(routed.slice(1)).toEqual(encodeClientReply(envelope, status, body))
  })

  it('round-trips a project reply and refuses other dialects', () => {
    const req = decodeClientRequest(encodeNszRequest('s', b('id7'), 'p'))
    if (isDecodeError(req)) throw new Error(req.error)
    const reply = decodeNszReply(encodeClientReply(replyEnvelope(req), Status.OK, [b('P')]))
    expect(reply).toEqual({ requestId: b('id7'), status: 200, body: [b('P')] })
    expect(isDecodeError(decodeNszReply([b(''), b('plain')]))).toBe(true)
    expect(isDecodeError(decodeNszReply([b(''), b(NSZC), b('id'), b('2x0')]))).toBe(true)
  })
})

describe('backend (MDP/0.1 worker)', () => {
  it('reads a standard READY and one with the extension', () => {
    expect(decodeWorkerMessage(encodeReady('echo'))).toEqual({ command: 'ready', service: 'echo' })
    expect(decodeWorkerMessage(encodeReady('a', { pid: 42, services: ['b', 'c'] }))).toEqual({
      command: 'ready', service: 'a', extension: { pid: 42, services: ['b', 'c'] }
    })
  })

  it('frames REQUEST as RFC 7 says, with the service for extended workers', () => {
    const job = Buffer.from([9, 9])
    expect(text(encodeRequest(job, [b('x')]))).toEqual(['', MDPW, '\x02', '\x09\x09', '', 'x'])
    expect(decodeWorkerMessage(encodeRequest(job, [b('x')], 'svc'), true))
      .toEqual({ command: 'request', jobId: job, service: 'svc', body: [b('x')] })
  })

  it('frames a routed REQUEST behind the worker\'s routing id, and reads its job id back', () => {
    const worker = b('\x00w1')
    const job = Buffer.from([0, 0, 0, 0, 0, 7])
    const service = b('svc')
    const routed = encodeRequestTo(worker, job, [b('x'), b('y')], service)
    expect(routed[0]).toBe(worker)
    expect(routed[5]).toBe(service)
    expect(routed.slice(1)).toEqual(encodeRequest(job, [b('x'), b('y')], 'svc'))
    expect(text(encodeRequestTo(worker, job, [b('x')]).slice(1))).toEqual(['', MDPW, '\x02', text([job])[0], '', 'x'])
    expect(routedRequestJobId(routed)).toBe(job)
    expect(routedRequestJobId(encodeHeartbeatTo(worker))).toBeUndefined()
    expect(routedRequestJobId([worker, ...encodeReply(job, 'r')])).toBeUndefined()
  })

  it('frames routed HEARTBEAT and DISCONNECT behind the worker\'s routing id', () => {
    const worker = b('w')
    expect(encodeHeartbeatTo(worker)).toEqual([worker, ...encodeHeartbeat()])
    expect(encodeDisconnectTo(worker)).toEqual([worker, ...encodeDisconnect()])
    expect(decodeWorkerMessage(encodeDisconnectTo(worker).slice(1))).toEqual({ command: 'disconnect' })
  })

  it('reads REPLY with and without a status', () => {
    const job = b('j1')
    expect(decodeWorkerMessage(encodeReply(job, 'r'))).toEqual({ command: 'reply', jobId: job, body: [b('r')] })
    expect(decodeWorkerMessage(encodeReply(job, 'oops', 500), true))
      .toEqual({ command: 'reply', jobId: job, status: 500, body: [b('oops')] })
  })

  it('reads HEARTBEAT and DISCONNECT', () => {
    expect(decodeWorkerMessage(encodeHeartbeat())).toEqual({ command: 'heartbeat' })
    expect(decodeWorkerMessage(encodeDisconnect())).toEqual({ command: 'disconnect' })
  })

  it.each([
    ['too few frames', [b(''), b(MDPW)], false],
    ['no delimiter', [b('x'), b(MDPW), Buffer.from([Command.HEARTBEAT])], false],
    ['another protocol', [b(''), b('MDPW02'), Buffer.from([Command.HEARTBEAT])], false],
    ['a two-byte command', [b(''), b(MDPW), b('\x01\x01')], false],
    ['an unknown command', [b(''), b(MDPW), Buffer.from([0x09])], false],
    ['READY without service', [b(''), b(MDPW), Buffer.from([Command.READY])], false],
    ['READY extension without pid', [b(''), b(MDPW), Buffer.from([1]), b('s'), b('NSZ1')], false],
    ['REPLY without delimiter', [b(''), b(MDPW), Buffer.from([3]), b('job')], false],
    ['standard REQUEST with a non-empty frame 5', [b(''), b(MDPW), Buffer.from([2]), b('job'), b('svc'), b('x')], false],
    ['READY extension with a pid that is not decimal', [b(''), b(MDPW), Buffer.from([1]), b('s'), b('NSZ1'), b('0x2A')], false],
    ['READY extension with a pid in exponent form', [b(''), b(MDPW), Buffer.from([1]), b('s'), b('NSZ1'), b('4e1')], false],
    ['standard REPLY with a non-empty frame 5', [b(''), b(MDPW), Buffer.from([3]), b('job'), b('x')], false],
    ['extended REPLY without a status', [b(''), b(MDPW), Buffer.from([3]), b('job'), b('')], true],
    ['ACK without the marker', [b(''), b(MDPW), Buffer.from([Command.ACK])], false],
    ['ACK with an empty marker', [b(''), b(MDPW), Buffer.from([Command.ACK]), b('')], false],
    ['ACK with a key and no value', [b(''), b(MDPW), Buffer.from([Command.ACK]), b('NSZ1'), b('slots')], false],
    ['ACK with an empty key', [b(''), b(MDPW), Buffer.from([Command.ACK]), b('NSZ1'), b(''), b('1')], false],
    ['CREDIT without slots', [b(''), b(MDPW), Buffer.from([Command.CREDIT])], true],
    ['CREDIT with two frames', [b(''), b(MDPW), Buffer.from([Command.CREDIT]), b('4'), b('4')], true],
    ['CREDIT past 1024 slots', [b(''), b(MDPW), Buffer.from([Command.CREDIT]), b('1025')], true],
    ['CREDIT with slots that are not decimal', [b(''), b(MDPW), Buffer.from([Command.CREDIT]), b('0x10')], true],
    ['CREDIT with negative slots', [b(''), b(MDPW), Buffer.from([Command.CREDIT]), b('-1')], true],
    ['CREDIT with an empty frame', [b(''), b(MDPW), Buffer.from([Command.CREDIT]), b('')], true]
  ])('rejects %s', (_, msg, extended) => {
    expect(isDecodeError(decodeWorkerMessage(msg, extended))).toBe(true)
  })

  it('frames a failure as RFC 7 has it until the broker acknowledges the extension', () => {
    const job = b('j1')
    expect(text(encodeRfc7Reply(job, ['a', 'b']))).toEqual(['', MDPW, '\x03', 'j1', '', 'a', 'b'])
    expect(text(encodeRfc7Reply(job, 'bad input', 500))).toEqual(['', MDPW, '\x03', 'j1', '', 'ERROR 500 bad input'])
    expect(text(encodeRfc7Reply(job, [], 404))).toEqual(['', MDPW, '\x03', 'j1', '', 'ERROR 404 no such service'])
    // A plain broker's plain client reads it as the project's broker would have told it.
    const reply = decodeWorkerMessage(encodeRfc7Reply(job, ['bad ', 'input'], 500))
    expect(reply).toEqual({ command: 'reply', jobId: job, body: [b('ERROR 500 bad input')] })
    expect(decodeErrorFrame((reply as { body: Buffer[] }).body)).toEqual({ status: 500, message: 'bad input' })
  })

  it('frames ACK with a command RFC 7 does not have, and reads its parameters back', () => {
    expect(Command.ACK).toBeGreaterThan(Command.DISCONNECT)
    expect(text(encodeAck())).toEqual(['', MDPW, '\x06', NSZ_WORKER_EXTENSION])
    const worker = b('w')
    const routed = encodeAckTo(worker, { slots: '4', framing: 'lean' })
    expect(routed[0]).toBe(worker)
    expect(text(routed.slice(1))).toEqual(['', MDPW, '\x06', 'NSZ1', 'slots', '4', 'framing', 'lean'])
    expect(decodeWorkerMessage(routed.slice(1))).toEqual({ command: 'ack', extension: 'NSZ1', params: { slots: '4', framing: 'lean' } })
    expect(decodeWorkerMessage(encodeAck())).toEqual({ command: 'ack', extension: 'NSZ1', params: {} })
    const odd = decodeWorkerMessage([b(''), b(MDPW), Buffer.from([Command.ACK]), b('NSZ9'), b('__proto__'), b('x')])
    expect(odd).toEqual({ command: 'ack', extension: 'NSZ9', params: { ['__proto__']: 'x' } })
    expect(Object.getPrototypeOf((odd as { params: object }).params)).toBe(Object.prototype)
  })

  it('frames CREDIT, the slots a worker takes at once, from 0 to MAX_SLOTS', () => {
    expect(Command.CREDIT).toBe(0x07)
    expect(MAX_SLOTS).toBe(1024)
    expect(ACK_CREDIT).toBe('credit')
    expect(text(encodeCredit(16))).toEqual(['', MDPW, '\x07', '16'])
    expect(decodeWorkerMessage(encodeCredit(16), true)).toEqual({ command: 'credit', slots: 16 })
    expect(decodeWorkerMessage(encodeCredit(0))).toEqual({ command: 'credit', slots: 0 })
    expect(decodeWorkerMessage(encodeCredit(MAX_SLOTS))).toEqual({ command: 'credit', slots: 1024 })
  })

  it('decodes status frames strictly', () => {
    expect(decodeStatus(b('200'))).toBe(200)
    expect(decodeStatus(b('20'))).toBeUndefined()
    expect(decodeStatus(b('2a0'))).toBeUndefined()
    expect(decodeStatus(b('2e2'))).toBeUndefined()
    expect(decodeStatus(b('1e2'))).toBeUndefined()
    expect(decodeStatus(b(' 99'))).toBeUndefined()
    expect(decodeStatus(b('099'))).toBeUndefined()
    expect(decodeStatus(b('999'))).toBe(999)
    expect(decodeStatus(undefined)).toBeUndefined()
  })
})

describe('one-frame failures of the req and mdp dialects', () => {
  it('reads back what the broker encodes, for every failure status', () => {
    for (const status of [400, 403, 404, 413, 500, 502, 503, 504]) {
      const [, ...reply] = encodeClientReply({ dialect: 'req' }, status, [b('why: ünïcode')])
      expect(decodeErrorFrame(reply)).toEqual({ status, message: 'why: ünïcode' })
    }
    const [, , , ...mdp] = encodeClientReply({ dialect: 'mdp', service: 's' }, 503, [])
    expect(decodeErrorFrame(mdp)).toEqual({ status: 503, message: statusText(503) })
  })

  it.each([
    ['an ordinary reply', [b('hello')]],
    ['two frames', [b('ERROR 500 x'), b('y')]],
    ['no space after the status', [b('ERROR 500x')]],
    ['a status that is not 3 digits', [b('ERROR 5e2 x')]],
    ['status 200', [b('ERROR 200 fine')]],
    ['lower case', [b('error 500 x')]],
    ['nothing', []]
  ])('does not read %s as a failure', (_, msg) => {
    expect(decodeErrorFrame(msg)).toBeUndefined()
  })
})
