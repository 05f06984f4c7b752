import { describe, expect, it } from 'vitest'
import {
  ACK_FRAMING, Command, FRAMING_COMPACT, Status, decodeCompactMessage, decodeWorkerMessage, encodeCompactHeartbeat, encodeCompactReply,
  encodeCompactRequestTo, encodeHeartbeat, encodeReply, encodeRequestTo, isCompact, isDecodeError, routedRequestJobId
} from '@net-server/client'
import { b, text } from '@net-server/test-support'

const JOB = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])
const WORKER = b('\x00w1')

describe('the compact framing', () => {
  it('is offered by one ACK parameter', () => {
    expect([ACK_FRAMING, FRAMING_COMPACT]).toEqual(['framing', 'compact'])
  })

  it('puts a REQUEST in one header frame behind the routing id: command, id length, job id, service', () => {
    const body = [b('x'), b('y')]
    const routed = encodeCompactRequestTo(WORKER, JOB, body, b('upper'))
    expect(routed[0]).toBe(WORKER)
    expect(routed[1]).toEqual(Buffer.concat([Buffer.from([Command.REQUEST, 8]), JOB, b('upper')]))
    // The body frames are the job's own Buffers, not copies.
    expect(routed[2]).toBe(body[0])
    expect(routed[3]).toBe(body[1])
    expect(routed).toHaveLength(4)
    expect(decodeCompactMessage(routed.slice(1))).toEqual({ command: 'request', jobId: JOB, service: 'upper', body })
  })

  it('puts a REPLY in one header frame: command, id length, job id, status in 2 bytes', () => {
    const reply = encodeCompactReply(JOB, ['A', b('B')], Status.APP_ERROR)
    expect(reply[0]).toEqual(Buffer.concat([Buffer.from([Command.REPLY, 8]), JOB, Buffer.from([0x01, 0xf4])]))
    expect(text(reply.slice(1))).toEqual(['A', 'B'])
    expect(decodeCompactMessage(reply)).toEqual({ command: 'reply', jobId: JOB, status: 500, body: [b('A'), b('B')] })
    expect(text(encodeCompactReply(JOB, 'one', 200).slice(1))).toEqual(['one'])
    expect(encodeCompactReply(JOB, b(''), 200)).toHaveLength(2)
    expect(encodeCompactReply(JOB, [], 204)).toHaveLength(1)
  })

  it('takes a job id of 1 to 255 bytes', () => {
    const long = Buffer.alloc(255, 9)
    expect(decodeCompactMessage(encodeCompactReply(long, [], 200))).toMatchObject({ jobId: long })
    expect(() => encodeCompactReply(Buffer.alloc(256), [], 200)).toThrow(/1 to 255 bytes, not 256/)
    expect(() => encodeCompactRequestTo(WORKER, Buffer.alloc(0), [], b('s'))).toThrow(/not 0/)
  })

  it('has a one-byte HEARTBEAT, the worker\'s answer to the offer', () => {
    expect(encodeCompactHeartbeat()).toEqual([Buffer.from([Command.HEARTBEAT])])
    expect(decodeCompactMessage(encodeCompactHeartbeat())).toEqual({ command: 'heartbeat' })
  })

  it('is told from MDP/0.1 by the first frame alone', () => {
    expect(isCompact(encodeCompactHeartbeat())).toBe(true)
    expect(isCompact(encodeCompactReply(JOB, [], 200))).toBe(true)
    expect(isCompact(encodeHeartbeat())).toBe(false)
    expect(isCompact(encodeReply(JOB, 'x', 200))).toBe(false)
    expect(isCompact([])).toBe(false)
    // An MDP decoder refuses a compact message: a worker that took no offer cannot send one.
    expect(decodeWorkerMessage(encodeCompactReply(JOB, [], 200), true)).toEqual({ error: 'backend message needs at least 3 frames' })
    expect(decodeWorkerMessage([...encodeCompactReply(JOB, [], 200), b('a'), b('b')], true)).toEqual({ error: 'missing empty delimiter frame' })
  })

  it('gives back the job id of a routed compact REQUEST, for a send that failed', () => {
    expect(routedRequestJobId(encodeCompactRequestTo(WORKER, JOB, [b('x')], b('s')))).toEqual(JOB)
    expect(routedRequestJobId(encodeRequestTo(WORKER, JOB, [b('x')], b('s')))).toBe(JOB)
    expect(routedRequestJobId([WORKER, ...encodeCompactHeartbeat()])).toBeUndefined()
    expect(routedRequestJobId([WORKER, ...encodeCompactReply(JOB, [], 200)])).toBeUndefined()
  })

  it.each([
    ['no frame', [], 'compact message needs a header frame'],
    ['an empty header', [b('')], 'compact message needs a header frame'],
    ['an unknown command', [Buffer.from([0x09, 1, 1])], 'unknown compact command 0x09'],
    ['READY', [Buffer.from([Command.READY, 1, 1])], 'unknown compact command 0x01'],
    ['a HEARTBEAT with more bytes', [Buffer.from([Command.HEARTBEAT, 0])], 'compact HEARTBEAT is one byte'],
    ['a HEARTBEAT with a body', [Buffer.from([Command.HEARTBEAT]), b('x')], 'compact HEARTBEAT is one byte'],
    ['no id length', [Buffer.from([Command.REPLY])], 'compact header needs a job id'],
    ['an id length of 0', [Buffer.from([Command.REPLY, 0, 0, 200])], 'compact header needs a job id'],
    ['an id cut short', [Buffer.from([Command.REQUEST, 8, 1, 2])], 'compact header needs a job id'],
    ['a REQUEST without a service', [Buffer.from([Command.REQUEST, 1, 7])], 'compact REQUEST needs a service'],
    ['a REPLY without a status', [Buffer.from([Command.REPLY, 1, 7])], 'compact REPLY needs a 2-byte status'],
    ['a REPLY with a 1-byte status', [Buffer.from([Command.REPLY, 1, 7, 200])], 'compact REPLY needs a 2-byte status'],
    ['a REPLY with a 3-byte status', [Buffer.from([Command.REPLY, 1, 7, 0, 200, 0])], 'compact REPLY needs a 2-byte status'],
    ['status 99', [Buffer.from([Command.REPLY, 1, 7, 0, 99])], 'compact REPLY has no valid status (99)'],
    ['status 1000', [Buffer.from([Command.REPLY, 1, 7, 0x03, 0xe8])], 'compact REPLY has no valid status (1000)']
  ])('refuses %s', (_, msg, error) => {
    const decoded = decodeCompactMessage(msg)
    expect(isDecodeError(decoded)).toBe(true)
    expect(decoded).toEqual({ error })
  })

  it('reads statuses 100 and 999, the bounds', () => {
    expect(decodeCompactMessage([Buffer.from([Command.REPLY, 1, 7, 0, 100])])).toMatchObject({ status: 100 })
    expect(decodeCompactMessage([Buffer.from([Command.REPLY, 1, 7, 0x03, 0xe7])])).toMatchObject({ status: 999 })
  })
})
