/**
 * Running a load generator (bench/load/*.js) as a child process and collecting its
 * single result message.
 */
import { resolve } from 'node:path'
import { benchDir } from './servers.js'
import { forkTracked, inbox, stopProcess, tail } from './procs.js'

/**
 * Forks `bench/load/<script>.js`, hands it `config`, calls `onStarted` once its load is
 * running, and resolves with its `result` (or `skip`) message. The generator runs with
 * the `@net-server/source`-free default conditions, i.e. against built packages.
 */
export async function runLoad (script, config, { onStarted, timeoutMs } = {}) {
  const child = forkTracked(resolve(benchDir, 'load', `${script}.js`), [], { cwd: benchDir })
  const errors = tail(child.stderr)
  tail(child.stdout)
  const limit = timeoutMs ?? ((config.warmup ?? 0) + Math.max(config.seconds ?? 0, config.maxSeconds ?? 0) + 60) * 1000
  try {
    const messages = inbox(child, `load ${script}`)
    child.send({ type: 'start', config })
    let message = await messages.next(['started', 'result', 'skip', 'error'], 30_000)
    if (message.type === 'started') {
      onStarted?.()
      message = await messages.next(['result', 'skip', 'error'], limit)
    }
    if (message.type === 'error') throw new Error(`load ${script} failed: ${message.message}`)
    return message
  } catch (error) {
    error.message += errors.length ? `\n${errors.join('\n')}` : ''
    throw error
  } finally {
    await stopProcess(child, { graceMs: 2000 })
  }
}
