import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CHILD_ENV } from '@net-server/prefork'

const prefork = fileURLToPath(new URL('../../src/index.ts', import.meta.url))

/**
 * A pool child whose class adds SIGUSR2 to the parent's signal table (unless
 * `NO_USR2` is set); it takes no work and stops when told to.
 */
const script = `
import { PreForkServer } from ${JSON.stringify(prefork)}
class Usr2Pool extends PreForkServer {
  #wake
  signalHandlers () {
    const table = super.signalHandlers()
    return process.env.NO_USR2 === undefined ? { ...table, SIGUSR2: () => {} } : table
  }
  async accept () { return await new Promise((resolve) => { this.#wake = resolve }) }
  async stopLoop (graceful) { await super.stopLoop(graceful); this.#wake?.(undefined) }
  async processRequest () {}
}
await new Usr2Pool({ argv: false, logLevel: 0, maxRequests: 0 }).run()
`

/** Starts the script as a child of this process, as the pool would, and waits for its `ready`. */
async function startChild (env: Record<string, string> = {}): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'nsz-child-signals-'))
  onTestFinished(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'child.mjs')
  writeFileSync(file, script)
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@net-server/source', file], {
    env: { ...process.env, ...env, [CHILD_ENV]: String(process.pid) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { nsz?: string }) => {
      // A child asks for its bootstrap data first, as the pool would answer it.
      if (m.nsz === 'boot') child.send({ nsz: 'bootstrap', data: null })
      if (m.nsz === 'ready') resolve()
    })
    child.once('exit', (code, signal) => { reject(new Error(`child exited before ready: ${code ?? signal}`)) })
  })
  return child
}

describe('the signals of a real child', () => {
  it('a signal a subclass adds to the parent\'s table is ignored in the child, which stops only when the parent says so', async () => {
    const child = await startChild()
    const exited = once(child, 'exit')
    child.kill('SIGUSR2')
    child.kill('SIGHUP')
    child.send({ nsz: 'stop', graceful: false })
    expect(await exited).toEqual([0, null])
  }, 20_000)

  it('without it in the table, SIGUSR2 takes its default action and kills the child', async () => {
    const child = await startChild({ NO_USR2: '1' })
    const exited = once(child, 'exit')
    child.kill('SIGUSR2')
    expect(await exited).toEqual([null, 'SIGUSR2'])
  }, 20_000)
})
