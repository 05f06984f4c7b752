import { describe, expect, it } from 'vitest'
import { NszError } from '@net-server/core'
import { SecurityErrorCode, ZmqErrorCodes, ZmqPersonalityError } from '@net-server/zmq'
import {
  brokerBindError, brokerStateError, jobRepliedError, keyFileError, metricsBindError, statusBindError, workerConnectError, workerStateError,
  zapBindError, zapStateError
} from '../../src/errors.js'
import { documentedCodes } from '@net-server/test-support'

const PACKAGE = '@net-server/zmq'

describe('error codes', () => {
  it('match the table in docs/errors.md, one row each', () => {
    expect(documentedCodes(PACKAGE).sort()).toEqual(Object.values(ZmqErrorCodes).sort())
  })

  it('come from one factory each, with the cause kept', () => {
    const cause = Object.assign(new Error('Address already in use'), { code: 'EADDRINUSE', errno: 98 })
    const made = [
      brokerBindError('frontend', 'tcp://127.0.0.1:1', cause),
      brokerStateError('bind', 'closed'),
      workerConnectError('tcp://x', cause),
      workerStateError('connect', 'connected'),
      jobRepliedError('00ff'),
      statusBindError('ipc:///run/nsz/jobs.pid.sock', cause),
      metricsBindError('127.0.0.1', 9464, cause),
      keyFileError('/k.json', 'is not valid JSON'),
      zapBindError('inproc://zeromq.zap.01', cause),
      zapStateError('closed')
    ]
    expect(made.map((e) => e.code).sort()).toEqual(Object.values(ZmqErrorCodes).sort())
    for (const e of made) {
      expect(e).toBeInstanceOf(ZmqPersonalityError)
      expect(e).toBeInstanceOf(NszError)
    }
    expect(made[0]!.cause).toBe(cause)
    expect(made[0]!.message).toContain('Address already in use')
    expect(keyFileError('/k', 'x').cause).toBeUndefined()
  })

  it.each([
    [keyFileError('/k.json', 'is not valid JSON'), 'key file /k.json: is not valid JSON'],
    [zapBindError('inproc://zeromq.zap.01', new Error('Address already in use')),
      'the ZAP handler cannot bind inproc://zeromq.zap.01: Address already in use (one handler per zeromq context)'],
    [zapStateError('closed'), 'the ZAP handler is already closed']
  ])('security factory: %s', (err, message) => {
    expect(err.message).toBe(message)
  })

  it('keeps SecurityErrorCode as an alias of the security rows of ZmqErrorCodes', () => {
    expect(SecurityErrorCode).toEqual({ KEY_FILE: ZmqErrorCodes.KEY_FILE, ZAP_BIND: ZmqErrorCodes.ZAP_BIND, ZAP_STATE: ZmqErrorCodes.ZAP_STATE })
  })
})
