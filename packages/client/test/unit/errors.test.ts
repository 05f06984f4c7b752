import { describe, expect, it } from 'vitest'
import { ClientError, ClientErrorCode, Status, isClientError, statusError } from '@net-server/client'
import {
  appError, badReplyError, closedError, connectionLostError, deniedError, jobTimeoutError, malformedError, socketError, timeoutError,
  tooLargeError, unavailableError, unknownServiceError, workerLostError
} from '../../src/errors.js'
import { errorTable } from '@net-server/test-support'

const PACKAGE = '@net-server/client'

describe('docs/errors.md', () => {
  it('has one row per code of this package, and no row for a code it does not export', () => {
    const rows = errorTable()
    const documented = rows.filter((r) => r.pkg === PACKAGE).map((r) => r.code)
    const exported = Object.values(ClientErrorCode)
    expect([...documented].sort()).toEqual([...exported].sort())
    expect(new Set(documented).size).toBe(documented.length)
    for (const r of rows.filter((r) => r.pkg === PACKAGE)) expect(r.meaning.length).toBeGreaterThan(10)
    // No other package documents one of ours.
    expect(rows.filter((r) => r.pkg !== PACKAGE && (exported as string[]).includes(r.code))).toEqual([])
  })
})

describe('error factories', () => {
  it.each([
    [timeoutError(3, 100), ClientErrorCode.TIMEOUT, undefined],
    [closedError(), ClientErrorCode.CLOSED, undefined],
    [connectionLostError(1), ClientErrorCode.CONNECTION_LOST, undefined],
    [badReplyError('x'), ClientErrorCode.BAD_REPLY, undefined],
    [socketError('send', new Error('boom')), ClientErrorCode.SOCKET, undefined],
    [malformedError(), ClientErrorCode.MALFORMED, 400],
    [deniedError(), ClientErrorCode.DENIED, 403],
    [unknownServiceError(), ClientErrorCode.UNKNOWN_SERVICE, 404],
    [tooLargeError(), ClientErrorCode.TOO_LARGE, 413],
    [appError('oops'), ClientErrorCode.APP_ERROR, 500],
    [workerLostError(), ClientErrorCode.WORKER_LOST, 502],
    [unavailableError(), ClientErrorCode.UNAVAILABLE, 503],
    [jobTimeoutError(), ClientErrorCode.JOB_TIMEOUT, 504]
  ])('%s has its code and status', (err, code, status) => {
    expect(err).toBeInstanceOf(ClientError)
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe(code)
    expect(err.status).toBe(status)
    expect(isClientError(err, code)).toBe(true)
    expect(isClientError(err, code === ClientErrorCode.CLOSED ? ClientErrorCode.TIMEOUT : ClientErrorCode.CLOSED)).toBe(false)
  })

  it('maps every failure status to its factory and anything else to a bad reply', () => {
    // 200 is no failure: a reply that says 200 cannot make an error but a bad reply.
    expect(statusError(Status.OK).code).toBe(ClientErrorCode.BAD_REPLY)
    for (const status of Object.values(Status).filter((s) => s !== Status.OK)) {
      expect(statusError(status, 'why')).toMatchObject({ status, detail: 'why' })
      expect(statusError(status).code).not.toBe(ClientErrorCode.BAD_REPLY)
    }
    expect(statusError(299)).toMatchObject({ code: ClientErrorCode.BAD_REPLY, status: 299 })
  })

  it('says what happened, with the server text when there is one', () => {
    expect(appError('x is not defined').message).toBe('job failed: x is not defined')
    expect(unavailableError().message).toBe('server busy or shutting down')
    expect(unavailableError('server busy or shutting down').message).toBe('server busy or shutting down')
    expect(timeoutError(1, 250).message).toBe('no reply after 1 attempt of 250 ms')
    expect(connectionLostError(3).message).toBe('the connection to the broker dropped before the reply came, after 3 attempts')
  })

  it('keeps the ZeroMQ error as the cause', () => {
    const cause = Object.assign(new Error('Socket is closed'), { code: 'EBADF', errno: 9 })
    const err = socketError('send', cause)
    expect(err.cause).toBe(cause)
    expect(err.message).toBe('send failed: Socket is closed')
    expect(isClientError(new Error('x'))).toBe(false)
  })
})
