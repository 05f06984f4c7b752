import { existsSync } from 'node:fs'
import { within } from '@net-server/test-support'
import { LineServer, readLine, type LineRequest } from './line-server.js'

/**
 * A {@link LineServer} that records every phase and hook it runs, in order, and can
 * be told to throw in one of them. Per-request steps run on a real TCP connection.
 */
export class RecordingServer extends LineServer {
  readonly steps: string[] = []
  /** The step that throws `Error('<step> failed')`. */
  failIn: string | undefined
  /** `allowDenyHook` returns this. */
  admit = true
  /** Whether the pid file existed when each step ran. */
  readonly pidFileSeen = new Map<string, boolean>()
  /** The endpoints seen by `postBindHook` (before `listening`). */
  boundEndpoints: readonly string[] = []
  readonly #waiters: Array<{ step: string, resolve: () => void }> = []

  constructor (...args: ConstructorParameters<typeof LineServer>) {
    super(...args)
    this.on('listening', () => this.steps.push('listening'))
    this.on('close', () => this.steps.push('close'))
  }

  /** Resolves the next time `step` runs; rejects when it has not run within `ms`, naming the steps that did. */
  async reached (step: string, ms = 5000): Promise<void> {
    const from = this.steps.length
    const waiter = { step, resolve: () => {} }
    const ran = new Promise<void>((resolve) => { waiter.resolve = resolve })
    this.#waiters.push(waiter)
    try {
      await within(ran, ms, `step ${step}`)
    } catch (err) {
      throw new Error(`${(err as Error).message}; ran meanwhile: ${this.steps.slice(from).join(', ') || 'nothing'}`)
    } finally {
      const at = this.#waiters.indexOf(waiter)
      if (at !== -1) this.#waiters.splice(at, 1)
    }
  }

  #record (step: string): void {
    this.steps.push(step)
    const pidFile = this.options_?.pidFile
    if (pidFile !== undefined) this.pidFileSeen.set(step, existsSync(pidFile))
    for (const w of this.#waiters.filter((w) => w.step === step)) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1)
      w.resolve()
    }
    if (this.failIn === step) throw new Error(`${step} failed`)
  }

  get options_ (): { pidFile?: string | undefined } | undefined {
    try {
      return this.options
    } catch {
      return undefined
    }
  }

  // Run phases and hooks
  protected override async configureHook (): Promise<void> { this.#record('configureHook'); await super.configureHook() }
  protected override async configure (): Promise<void> { this.#record('configure'); await super.configure() }
  protected override async postConfigure (): Promise<void> { this.#record('postConfigure'); await super.postConfigure() }
  protected override async postConfigureHook (): Promise<void> { this.#record('postConfigureHook'); await super.postConfigureHook() }
  protected override async preBind (): Promise<void> { this.#record('preBind'); await super.preBind() }
  protected override async bind (): Promise<void> { this.#record('bind'); await super.bind() }
  protected override async postBindHook (): Promise<void> {
    this.boundEndpoints = this.endpoints
    this.#record('postBindHook')
    await super.postBindHook()
  }

  protected override async postBind (): Promise<void> { this.#record('postBind'); await super.postBind() }
  protected override async preLoopHook (): Promise<void> { this.#record('preLoopHook'); await super.preLoopHook() }
  protected override async loop (): Promise<void> { this.#record('loop'); await super.loop() }
  protected override async stopLoop (graceful: boolean): Promise<void> { this.#record('stopLoop'); await super.stopLoop(graceful) }
  protected override async serverClose (): Promise<void> { this.#record('serverClose'); await super.serverClose() }
  protected override async preServerCloseHook (): Promise<void> { this.#record('preServerCloseHook'); await super.preServerCloseHook() }

  // Per-request steps
  protected override async accept (): Promise<LineRequest | undefined> {
    const request = await super.accept()
    if (request !== undefined) this.#record('accept')
    return request
  }

  protected override async postAccept (r: LineRequest): Promise<void> { this.#record('postAccept'); await super.postAccept(r) }
  protected override async getClientInfo (r: LineRequest): Promise<void> { this.#record('getClientInfo'); await super.getClientInfo(r) }
  protected override async postAcceptHook (r: LineRequest): Promise<void> { this.#record('postAcceptHook'); await super.postAcceptHook(r) }
  protected override async allowDeny (r: LineRequest): Promise<boolean> { this.#record('allowDeny'); return await super.allowDeny(r) }
  protected override async allowDenyHook (r: LineRequest): Promise<boolean> {
    this.#record('allowDenyHook')
    return this.admit && await super.allowDenyHook(r)
  }

  protected override async processRequest (r: LineRequest): Promise<void> {
    this.#record('processRequest')
    r.line = await readLine(r.socket)
    if (r.line === 'boom') throw new Error('boom')
    r.socket.write(`echo: ${r.line}\n`)
  }

  protected override async requestDeniedHook (r: LineRequest): Promise<void> {
    this.#record('requestDeniedHook')
    r.socket.write('denied\n')
    await super.requestDeniedHook(r)
  }

  protected override async postProcessRequestHook (r: LineRequest): Promise<void> { this.#record('postProcessRequestHook'); await super.postProcessRequestHook(r) }
  protected override async postProcessRequest (r: LineRequest): Promise<void> { this.#record('postProcessRequest'); await super.postProcessRequest(r) }
  protected override async postClientConnectionHook (r: LineRequest): Promise<void> { this.#record('postClientConnectionHook'); await super.postClientConnectionHook(r) }
}
