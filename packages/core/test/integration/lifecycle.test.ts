import { existsSync } from 'node:fs'
import { once } from 'node:events'
import net from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it, onTestFinished } from 'vitest'
import { CoreErrorCode } from '@net-server/core'
import { tempDir } from '@net-server/test-support'
import { request, start } from '../support/line-server.js'
import { RecordingServer } from '../support/recording-server.js'

const RUN_START = ['configureHook', 'configure', 'postConfigure', 'postConfigureHook', 'preBind', 'bind', 'postBindHook', 'postBind', 'listening', 'preLoopHook', 'loop']
const RUN_END = ['stopLoop', 'serverClose', 'preServerCloseHook', 'close']
const ADMITTED = ['accept', 'postAccept', 'getClientInfo', 'postAcceptHook', 'allowDeny', 'allowDenyHook', 'processRequest', 'postProcessRequestHook', 'postProcessRequest', 'postClientConnectionHook']

const servers: RecordingServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(async (s) => await s.close()))
})

function recording (options: ConstructorParameters<typeof RecordingServer>[0] = {}): RecordingServer {
  const server = new RecordingServer({ argv: false, handleSignals: false, logLevel: 0, ...options })
  servers.push(server)
  return server
}

/** Sends one request and waits until the server has run its last step for it. */
async function serve (server: RecordingServer, endpoint: string, line: string): Promise<string> {
  const finished = server.reached('postClientConnectionHook')
  const reply = await request(endpoint, line)
  await finished
  return reply
}

async function refused (endpoint: string): Promise<string> {
  const socket = net.connect(Number(new URL(endpoint).port), '127.0.0.1')
  const [err] = await once(socket, 'error') as [NodeJS.ErrnoException]
  return err.code ?? ''
}

describe('run()', () => {
  it('runs every phase and hook in Net::Server order, and each request through its steps', async () => {
    const server = recording()
    const { endpoints, done } = await start(server)
    expect(endpoints).toEqual([expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/)])
    expect(await serve(server, endpoints[0]!, 'hello')).toBe('echo: hello\n')
    expect(await serve(server, endpoints[0]!, 'again')).toBe('echo: again\n')
    await server.close()
    await done
    expect(server.steps).toEqual([...RUN_START, ...ADMITTED, ...ADMITTED, ...RUN_END])
  })

  it('refuses a peer denied by the access rules: requestDeniedHook instead of allowDenyHook and processRequest', async () => {
    const server = recording({ cidrDeny: ['127.0.0.0/8'] })
    const { endpoints } = await start(server)
    server.steps.length = 0
    expect(await serve(server, endpoints[0]!, 'hello')).toBe('denied\n')
    expect(server.steps).toEqual(['accept', 'postAccept', 'getClientInfo', 'postAcceptHook', 'allowDeny',
      'requestDeniedHook', 'postProcessRequestHook', 'postProcessRequest', 'postClientConnectionHook'])
  })

  it('refuses a peer that allowDenyHook turns away', async () => {
    const server = recording()
    server.admit = false
    const { endpoints } = await start(server)
    server.steps.length = 0
    expect(await serve(server, endpoints[0]!, 'hello')).toBe('denied\n')
    expect(server.steps).toEqual(['accept', 'postAccept', 'getClientInfo', 'postAcceptHook', 'allowDeny', 'allowDenyHook',
      'requestDeniedHook', 'postProcessRequestHook', 'postProcessRequest', 'postClientConnectionHook'])
  })

  it('emits error when processRequest throws, still runs the closing steps, and keeps serving', async () => {
    const server = recording()
    const errors: Error[] = []
    server.on('error', (err) => errors.push(err))
    const { endpoints } = await start(server)
    server.steps.length = 0
    expect(await serve(server, endpoints[0]!, 'boom')).toBe('')
    expect(errors.map((e) => e.message)).toEqual(['boom'])
    expect(server.steps).toEqual(ADMITTED)
    expect(await serve(server, endpoints[0]!, 'fine')).toBe('echo: fine\n')
  })

  it.each(['postAcceptHook', 'postProcessRequestHook'])('when %s throws, the error is emitted and the steps after it still run', async (step) => {
    const server = recording()
    server.failIn = step
    const errors: Error[] = []
    server.on('error', (err) => errors.push(err))
    const { endpoints } = await start(server)
    server.steps.length = 0
    await serve(server, endpoints[0]!, 'hello')
    expect(errors.map((e) => e.message)).toEqual([`${step} failed`])
    const expected = step === 'postAcceptHook'
      ? ['accept', 'postAccept', 'getClientInfo', 'postAcceptHook', 'postProcessRequestHook', 'postProcessRequest', 'postClientConnectionHook']
      : ADMITTED
    expect(server.steps).toEqual(expected)
  })

  it('close() during a request lets it finish, then leaves the loop', async () => {
    const server = recording()
    const { endpoints, done } = await start(server)
    const { port } = new URL(endpoints[0]!)
    const processing = server.reached('processRequest')
    const client = net.connect(Number(port), '127.0.0.1')
    onTestFinished(() => { client.destroy() })
    await processing
    const stopping = server.reached('stopLoop')
    const closed = server.close()
    await stopping
    let reply = ''
    client.on('data', (chunk) => { reply += String(chunk) })
    const ended = once(client, 'end')
    client.write('late\n')
    await ended
    await closed
    await done
    expect(reply).toBe('echo: late\n')
    expect(server.steps.slice(server.steps.indexOf('processRequest'))).toEqual([
      'processRequest', 'stopLoop', 'postProcessRequestHook', 'postProcessRequest', 'postClientConnectionHook',
      'serverClose', 'preServerCloseHook', 'close'
    ])
    expect(await refused(endpoints[0]!)).toBe('ECONNREFUSED')
  })

  it('rejects a second run(), while running and after close', async () => {
    const server = recording()
    await start(server)
    await expect(server.run()).rejects.toMatchObject({ code: CoreErrorCode.ALREADY_RUNNING })
    await server.close()
    await expect(server.run()).rejects.toMatchObject({ code: CoreErrorCode.ALREADY_RUNNING })
    expect(server.steps.filter((s) => s === 'configure')).toHaveLength(1)
  })

  it('close() before run() makes run() reject without starting anything', async () => {
    const server = recording()
    await server.close()
    await expect(server.run()).rejects.toMatchObject({ code: CoreErrorCode.ALREADY_RUNNING })
    expect(server.steps).toEqual([])
  })

  // For each step: whether the pid file existed when it ran (undefined: options not read
  // yet), and whether the server had bound.
  it.each<[string, boolean | undefined, boolean]>([
    ['configureHook', undefined, false],
    ['postConfigureHook', false, false],
    ['preBind', false, false],
    ['bind', false, false],
    ['postBindHook', false, true],
    ['postBind', false, true],
    ['preLoopHook', true, true],
    ['loop', true, true]
  ])('a failure in %s rejects run() and still cleans up', async (step, pidFileThen, bound) => {
    const pidFile = join(tempDir(), 'server.pid')
    const server = recording({ pidFile })
    server.failIn = step
    let closed = 0
    server.on('close', () => closed++)
    await expect(server.run()).rejects.toThrow(`${step} failed`)
    const at = server.steps.indexOf(step)
    expect(server.steps.slice(at)).toEqual([step, 'serverClose', 'preServerCloseHook', 'close'])
    expect(closed).toBe(1)
    expect(existsSync(pidFile)).toBe(false)
    expect(server.pidFileSeen.get(step)).toBe(pidFileThen)
    // What was bound is closed again.
    expect(server.boundEndpoints).toHaveLength(bound ? 1 : 0)
    expect(await Promise.all(server.boundEndpoints.map(refused))).toEqual(bound ? ['ECONNREFUSED'] : [])
    expect(server.stopping).toBe(true)
  })

  it('the static run() builds the server, runs it with run() options and resolves once it is closed', async () => {
    const { LineServer } = await import('../support/line-server.js')
    class OneShot extends LineServer {
      protected override async preLoopHook (): Promise<void> {
        await this.close()
      }
    }
    const server = await OneShot.run({ argv: false, handleSignals: false, logLevel: 0, minServers: 2 })
    expect(server).toBeInstanceOf(OneShot)
    expect(server.options.minServers).toBe(2)
    expect(server.bindCalls).toBe(1)
  })
})
