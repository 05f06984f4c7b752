/**
 * A throw-away local Redis for the BullMQ baseline: Debian's `redis-server` on a
 * loopback port that the harness picks, without persistence, stopped after use.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { spawnTracked, stopProcess, tail, waitForLine } from './procs.js'

const run = promisify(execFile)

function findRedis () {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']
  return dirs.map(dir => join(dir, 'redis-server')).find(existsSync)
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort () {
  const server = createServer()
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

/**
 * Finds `redis-server`, installing Debian's package when it is missing and the harness
 * runs as root (unless `BENCH_INSTALL_REDIS=0`), and starts it. Rejects with the reason
 * when Redis cannot be installed or started.
 */
export async function startRedis (log) {
  let binary = findRedis()
  if (!binary && process.env.BENCH_INSTALL_REDIS !== '0' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log('redis-server is missing: apt-get install -y redis-server')
    try {
      await run('apt-get', ['install', '-y', 'redis-server'], { timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    } catch (error) {
      throw new Error(`redis-server could not be installed (${error.message.split('\n')[0]})`)
    }
    binary = findRedis()
  }
  if (!binary) throw new Error('redis-server is not installed (apt-get install -y redis-server)')
  const { stdout } = await run(binary, ['--version'])
  const version = /v=([\d.]+)/.exec(stdout)?.[1] ?? stdout.trim()
  const port = await freePort()
  const child = spawnTracked(binary, [
    '--bind', '127.0.0.1', '--port', String(port),
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'
  ])
  const output = tail(child.stdout)
  tail(child.stderr)
  try {
    await waitForLine(child, child.stdout, /Ready to accept connections/, 15_000, 'redis-server')
  } catch (error) {
    await stopProcess(child, { signal: 'SIGKILL' })
    throw new Error(`redis-server did not start: ${error.message}\n${output.join('\n')}`)
  }
  return { port, version, pid: child.pid, stop: () => stopProcess(child) }
}
