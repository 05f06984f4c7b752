import { describe, expect, it } from 'vitest'
import {
  Command, DEFAULT_SERVICE, MDPC, MDPW, NSZC, Status,
  decodeClientRequest, decodeNszReply, decodeStatus, decodeWorkerMessage, encodeClientReply,
  encodeDisconnect, encodeHeartbeat, encodeMdpRequest, encodeNszRequest, encodeReady, encodeReply,
  encodeRequest, isDecodeError, replyEnvelope, statusText, decodeErrorFrame,
  encodeClientReplyTo, encodeDisconnectTo, encodeHeartbeatTo, encodeRequestTo, routedRequestJobId, type ReplyEnvelope,
  NSZ_WORKER_EXTENSION, encodeAck, encodeAckTo, encodeRfc7Reply, encodeStatus, isStatus, MMI_SERVICE, REQ_ENVELOPE,
  ACK_CREDIT, MAX_SLOTS, encodeCredit
} from '@net-server/client'
import { b, text } from '@net-server/test-support'
import { replyDialect } from '../../src/protocol-frontend.js'

describe('the wire names', () => {
  it('are RFC 7\'s headers, the project\'s own, and RFC 8\'s service', () => {
    expect([MDPW, MDPC, NSZC, NSZ_WORKER_EXTENSION, MMI_SERVICE, DEFAULT_SERVICE]).toEqual(['MDPW01', 'MDPC01', 'NSZC01', 'NSZ1', 'mmi.service', 'default'])
    expect(text(encodeHeartbeat())).toEqual(['', 'MDPW01', '\x04'])
    expect(text(encodeMdpRequest('s', 'x'))).toEqual(['', 'MDPC01', 's', 'x'])
    expect(text(encodeNszRequest('s', b('id'), 'x'))).toEqual(['', 'NSZC01', 's', 'id', 'x'])
  })

  it('name each status as docs/protocol.md does, and no other', () => {
    expect(Object.values(Status).map((s) => `${s} ${statusText(s)}`)).toEqual([
      '200 ok', '400 malformed request', '403 denied', '404 no such service', '413 request too large',
      '500 job failed', '502 worker lost', '503 server busy or shutting down', '504 job timed out'
    ])
    expect(statusText(299)).toBe('unknown status')
    expect(Object.values(Status).every((s) => isStatus(s))).toBe(true)
    expect([299, 0, 600].some((s) => isStatus(s))).toBe(false)
  })

  it('frame every status as its three digits, known or not', () => {
    expect(text([encodeStatus(504), encodeStatus(299), encodeStatus(999)])).toEqual(['504', '299', '999'])
  })
})

describe('frontend dialects', () => {
  it('reads a plain REQ request as the default service, multi-frame body whole', () => {
    const req = decodeClientRequest([b(''), b('hello'), b('world')])
    expect(req).toEqual({ dialect: 'req', service: DEFAULT_SERVICE, body: [b('hello'), b('world')] })
    expect(decodeClientRequest([b(''), b('one')], 'main')).toEqual({ dialect: 'req', service: 'main', body: [b('one')] })
  })

  it('reads an MDP/0.1 client request; an empty service means the default one, and the body may be empty', () => {
    const req = decodeClientRequest(encodeMdpRequest('echo', 'hi'))
    expect(req).toEqual({ dialect: 'mdp', service: 'echo', body: [b('hi')] })
    expect(decodeClientRequest(encodeMdpRequest('', 'hi'), 'main')).toEqual({ dialect: 'mdp', service: 'main', body: [b('hi')] })
    expect(decodeClientRequest(encodeMdpRequest('echo', []))).toEqual({ dialect: 'mdp', service: 'echo', body: [] })
  })

  it('answers each dialect in its own envelope; plain REQ shares one frozen envelope', () => {
    const id = b('r1')
    const envelope = (msg: Buffer[]): ReplyEnvelope => {
      const req = decodeClientRequest(msg)
      if (isDecodeError(req)) throw new Error(req.error)
      return replyEnvelope(req)
    }
    expect(envelope(encodeNszRequest('s', id, 'x'))).toEqual({ dialect: 'nsz', requestId: id })
    expect(envelope(encodeMdpRequest('echo', 'x'))).toEqual({ dialect: 'mdp', service: 'echo' })
    expect(envelope([b(''), b('x')])).toBe(REQ_ENVELOPE)
    expect(REQ_ENVELOPE).toEqual({ dialect: 'req' })
    expect(Object.isFrozen(REQ_ENVELOPE)).toBe(true)
  })

  it('reads a request in the project dialect; an empty service means the default one', () => {
    const id = Buffer.from([0, 1, 2, 3])
    expect(decodeClientRequest(encodeNszRequest('upper', id, ['a', 'b']))).toEqual({
      dialect: 'nsz', service: 'upper', requestId: id, body: [b('a'), b('b')]
    })
    expect(decodeClientRequest(encodeNszRequest('', id, 'x'), 'main')).toMatchObject({ service: 'main' })
    expect(decodeClientRequest(encodeNszRequest('upper', id, []))).toEqual({ dialect: 'nsz', service: 'upper', requestId: id, body: [] })
  })

  it.each([
    ['an empty message', [], 'empty message'],
    ['a missing delimiter', [b('hello')], 'missing empty delimiter frame'],
    ['a missing delimiter before a header', [b('x'), b(NSZC), b('svc'), b('id')], 'missing empty delimiter frame'],
    ['a delimiter alone', [b('')], 'no body after the empty delimiter'],
    ['an MDP request without service', [b(''), b(MDPC)], 'MDPC01 request needs a service frame'],
    ['a project request without request id', [b(''), b(NSZC), b('svc')], 'NSZC01 request needs service and request id frames'],
    ['a project request with an empty request id', [b(''), b(NSZC), b('svc'), b('')], 'NSZC01 request id frame is empty']
  ])('rejects %s with a reason', (_, msg, error) => {
    const req = decodeClientRequest(msg)
    expect(req).toEqual({ error })
    expect(isDecodeError(req)).toBe(true)
  })

  it('tells a decoded message from a decoder\'s error', () => {
    expect(isDecodeError(decodeClientRequest([b(''), b('x')]))).toBe(false)
    expect(isDecodeError(decodeWorkerMessage(encodeHeartbeat()))).toBe(false)
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
    expect(decodeNszReply([b(''), b(NSZC), b('id'), b('503')])).toEqual({ requestId: b('id'), status: 503, body: [] })
  })

  it.each([
    ['a plain reply', [b(''), b('plain'), b('x'), b('200')], 'not a NSZC01 reply'],
    ['a reply without delimiter', [b('x'), b(NSZC), b('id'), b('200')], 'not a NSZC01 reply'],
    ['a reply without status', [b(''), b(NSZC), b('id')], 'not a NSZC01 reply'],
    ['a status that is not 3 digits', [b(''), b(NSZC), b('id'), b('2x0')], 'NSZC01 reply has no valid status frame']
  ])('refuses %s as a project reply', (_, msg, error) => {
    expect(decodeNszReply(msg)).toEqual({ error })
  })

  it('tells which dialect a reply is in, as a REQ socket reads it', () => {
    expect(replyDialect([b(MDPC), b('s'), b('x')])).toBe('mdp')
    expect(replyDialect([b(NSZC), b('id'), b('200')])).toBe('nsz')
    expect(replyDialect([b('hello')])).toBe('req')
    expect(replyDialect([])).toBe('req')
  })
})

describe('backend (MDP/0.1 worker)', () => {
  it('reads a standard READY and one with the extension', () => {
    expect(decodeWorkerMessage(encodeReady('echo'))).toEqual({ command: 'ready', service: 'echo' })
    expect(decodeWorkerMessage(encodeReady('a', { pid: 42, services: ['b', 'c'] }))).toEqual({
      command: 'ready', service: 'a', extension: { pid: 42, services: ['b', 'c'] }
    })
    expect(decodeWorkerMessage(encodeReady('a', { pid: 1, services: [] }))).toEqual({ command: 'ready', service: 'a', extension: { pid: 1, services: [] } })
    // Frames after the service that are not the marker: an RFC 7 READY with extra frames.
    expect(decodeWorkerMessage([...encodeReady('a'), b('NSZ2'), b('7')])).toEqual({ command: 'ready', service: 'a' })
  })

  it('frames REQUEST as RFC 7 says, with the service for extended workers', () => {
    const job = Buffer.from([9, 9])
    expect(text(encodeRequest(job, [b('x')]))).toEqual(['', MDPW, '\x02', '\x09\x09', '', 'x'])
    expect(decodeWorkerMessage(encodeRequest(job, [b('x')], 'svc'), true))
      .toEqual({ command: 'request', jobId: job, service: 'svc', body: [b('x')] })
    // An extended worker may still get a REQUEST with frame 5 empty: it names no service.
    expect(decodeWorkerMessage(encodeRequest(job, [b('x')]), true)).toEqual({ command: 'request', jobId: job, body: [b('x')] })
    expect(decodeWorkerMessage(encodeRequest(job, []))).toEqual({ command: 'request', jobId: job, body: [] })
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
    expect(decodeWorkerMessage(encodeReply(job, []))).toEqual({ command: 'reply', jobId: job, body: [] })
  })

  it('reads HEARTBEAT and DISCONNECT', () => {
    expect(decodeWorkerMessage(encodeHeartbeat())).toEqual({ command: 'heartbeat' })
    expect(decodeWorkerMessage(encodeDisconnect())).toEqual({ command: 'disconnect' })
  })

  const cmd = (c: number): Buffer => Buffer.from([c])
  it.each<[string, Buffer[], boolean, string]>([
    ['too few frames', [b(''), b(MDPW)], false, 'backend message needs at least 3 frames'],
    ['no delimiter', [b('x'), b(MDPW), cmd(Command.HEARTBEAT)], false, 'missing empty delimiter frame'],
    ['another protocol', [b(''), b('MDPW02'), cmd(Command.HEARTBEAT)], false, 'unknown protocol header (expected MDPW01)'],
    ['a two-byte command', [b(''), b(MDPW), b('\x04\x04')], false, 'command frame must be one byte'],
    ['an empty command', [b(''), b(MDPW), b('')], false, 'command frame must be one byte'],
    ['an unknown command', [b(''), b(MDPW), cmd(0x09)], false, 'unknown command 0x09'],
    ['an unknown command of two digits', [b(''), b(MDPW), cmd(0xab)], false, 'unknown command 0xab'],
    ['READY without service', [b(''), b(MDPW), cmd(Command.READY)], false, 'READY needs a service name'],
    ['READY with an empty service', [b(''), b(MDPW), cmd(Command.READY), b('')], false, 'READY needs a service name'],
    ['READY extension without pid', [b(''), b(MDPW), cmd(1), b('s'), b('NSZ1')], false, 'READY extension needs a pid frame'],
    ['READY extension with pid 0', [b(''), b(MDPW), cmd(1), b('s'), b('NSZ1'), b('0')], false, 'READY extension needs a pid frame'],
    ['READY extension with a pid too large to be exact', [b(''), b(MDPW), cmd(1), b('s'), b('NSZ1'), b('9007199254740993')], false, 'READY extension needs a pid frame'],
    ['READY extension with a pid that is not decimal', [b(''), b(MDPW), cmd(1), b('s'), b('NSZ1'), b('0x2A')], false, 'READY extension needs a pid frame'],
    ['READY extension with a pid in exponent form', [b(''), b(MDPW), cmd(1), b('s'), b('NSZ1'), b('4e1')], false, 'READY extension needs a pid frame'],
    ['READY extension with an empty service name', [b(''), b(MDPW), cmd(1), b('s'), b('NSZ1'), b('42'), b('b'), b('')], false, 'READY extension has an empty service name'],
    ['REQUEST without delimiter', [b(''), b(MDPW), cmd(2), b('job')], false, 'REQUEST needs job id and delimiter frames'],
    ['REPLY without delimiter', [b(''), b(MDPW), cmd(3), b('job')], false, 'REPLY needs job id and delimiter frames'],
    ['standard REQUEST with a non-empty frame 5', [b(''), b(MDPW), cmd(2), b('job'), b('svc'), b('x')], false, 'REQUEST frame 5 must be empty'],
    ['standard REPLY with a non-empty frame 5', [b(''), b(MDPW), cmd(3), b('job'), b('x')], false, 'REPLY frame 5 must be empty'],
    ['extended REPLY without a status', [b(''), b(MDPW), cmd(3), b('job'), b('')], true, 'extended REPLY needs a 3-digit status in frame 5'],
    ['ACK without the marker', [b(''), b(MDPW), cmd(Command.ACK)], false, 'ACK needs the extension\'s marker frame'],
    ['ACK with an empty marker', [b(''), b(MDPW), cmd(Command.ACK), b('')], false, 'ACK needs the extension\'s marker frame'],
    ['ACK with a key and no value', [b(''), b(MDPW), cmd(Command.ACK), b('NSZ1'), b('slots')], false, 'ACK parameters come in key and value frames'],
    ['ACK with an empty key', [b(''), b(MDPW), cmd(Command.ACK), b('NSZ1'), b(''), b('1')], false, 'ACK has an empty parameter name'],
    ['CREDIT without slots', [b(''), b(MDPW), cmd(Command.CREDIT)], true, 'CREDIT needs one frame with the slots, an integer from 0 to 1024'],
    ['CREDIT with two frames', [b(''), b(MDPW), cmd(Command.CREDIT), b('4'), b('4')], true, 'CREDIT needs one frame with the slots, an integer from 0 to 1024'],
    ['CREDIT past 1024 slots', [b(''), b(MDPW), cmd(Command.CREDIT), b('1025')], true, 'CREDIT needs one frame with the slots, an integer from 0 to 1024'],
    ['CREDIT with slots that are not decimal', [b(''), b(MDPW), cmd(Command.CREDIT), b('0x10')], true, 'CREDIT needs one frame with the slots, an integer from 0 to 1024'],
    ['CREDIT with negative slots', [b(''), b(MDPW), cmd(Command.CREDIT), b('-1')], true, 'CREDIT needs one frame with the slots, an integer from 0 to 1024'],
    ['CREDIT with an empty frame', [b(''), b(MDPW), cmd(Command.CREDIT), b('')], true, 'CREDIT needs one frame with the slots, an integer from 0 to 1024']
  ])('rejects %s', (_, msg, extended, error) => {
    expect(decodeWorkerMessage(msg, extended)).toEqual({ error })
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
    expect(decodeStatus(b('100'))).toBe(100)
    expect(decodeStatus(b('109'))).toBe(109)
    expect(decodeStatus(b('190'))).toBe(190)
    // Each digit is checked on both sides: '/' sorts just below '0', ':' just above '9'.
    for (const bad of [':00', '/00', '2:0', '2/0', '20:', '20/']) expect(decodeStatus(b(bad)), bad).toBeUndefined()
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
    expect(decodeErrorFrame([b('ERROR 500 ')])).toEqual({ status: 500, message: '' })
  })

  it.each([
    ['an ordinary reply', [b('hello')]],
    ['two frames', [b('ERROR 500 x'), b('y')]],
    ['no space after the status', [b('ERROR 500x')]],
    ['a status that is not 3 digits', [b('ERROR 5e2 x')]],
    ['status 200', [b('ERROR 200 fine')]],
    ['no status', [b('ERROR ')]],
    ['a status cut short', [b('ERROR 50')]],
    ['lower case', [b('error 500 x')]],
    ['nothing', []]
  ])('does not read %s as a failure', (_, msg) => {
    expect(decodeErrorFrame(msg)).toBeUndefined()
  })
})
