import { onTestFinished } from 'vitest'
import { Context, type EventOfType, type EventType, type Socket } from 'zeromq'
import { within } from '@net-server/test-support'
import { ZapHandler, type ZapHandlerEvents, type ZapHandlerOptions } from '../../src/security/zap-handler.js'

/** The next event of `type` on `socket`, within a deadline. Call before the action that causes it. */
export function nextSocketEvent<E extends EventType> (socket: Socket, type: E, ms = 5000): Promise<EventOfType<E>> {
  return within(new Promise<EventOfType<E>>((resolve) => {
    const listener = (event: EventOfType<E>): void => {
      socket.events.off(type, listener)
      resolve(event)
    }
    socket.events.on(type, listener)
  }), ms, `socket event ${type}`)
}

/** A zeromq context of the test's own, so that each test has its own ZAP endpoint. */
export function freshContext (): Context {
  return new Context()
}

/** A started ZAP handler, closed when the test ends. */
export async function startZap (options: ZapHandlerOptions): Promise<ZapHandler> {
  const zap = new ZapHandler(options)
  onTestFinished(() => zap.close())
  await zap.start()
  return zap
}

/** The arguments of the handler's next `name` event, within a deadline. Call before the action that causes it. */
export function nextZapEvent<K extends keyof ZapHandlerEvents> (zap: ZapHandler, name: K, ms = 5000): Promise<ZapHandlerEvents[K]> {
  return within(new Promise<ZapHandlerEvents[K]>((resolve) => {
    const listener = (...args: ZapHandlerEvents[K]): void => resolve(args)
    zap.once(name, listener as never)
  }), ms, `ZAP event ${name}`)
}
