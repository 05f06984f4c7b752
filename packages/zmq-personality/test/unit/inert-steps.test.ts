import { describe, expect, it } from 'vitest'
import { isInert } from '@net-server/core'
import { ZmqServer } from '@net-server/zmq'

describe('ZmqServer\'s empty steps', () => {
  it('are marked inert, so that a job costs no await for them; its steps with a body are not', () => {
    const steps = ZmqServer.prototype as unknown as Record<string, object>
    // A job carries no peer address: nothing to fill in, nothing to refuse here.
    expect(isInert(steps.getClientInfo!)).toBe(true)
    expect(isInert(steps.allowDeny!)).toBe(true)
    for (const step of ['processRequest', 'postProcessRequest', 'decodeRequest', 'encodeReply', 'accept']) expect(isInert(steps[step]!), step).toBe(false)
    // The user's hooks stay the core's inert defaults until a subclass overrides them.
    expect(isInert(steps.allowDenyHook!)).toBe(true)
  })
})
