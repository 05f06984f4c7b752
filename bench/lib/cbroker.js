/**
 * The C baseline (baselines/c-broker.c): built with the system C compiler against
 * libzmq into bench/results/build/ (outside git), and started with its forked workers
 * on two loopback ports that the harness picks.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { spawnTracked, stopProcess, tail, waitForLine } from './procs.js'
import { freePort } from './redis.js'
import { benchDir } from './servers.js'

const run = promisify(execFile)
const source = resolve(benchDir, 'baselines/c-broker.c')
const buildDir = resolve(benchDir, 'results/build')
const binary = resolve(buildDir, 'c-broker')

function which (name) {
  return (process.env.PATH ?? '').split(delimiter).map(dir => join(dir, name)).find(existsSync)
}

/** The compiler and linker flags of libzmq from pkg-config, or undefined when it has none. */
async function zmqFlags () {
  if (!which('pkg-config')) return undefined
  try {
    const { stdout } = await run('pkg-config', ['--cflags', '--libs', 'libzmq'])
    const { stdout: version } = await run('pkg-config', ['--modversion', 'libzmq'])
    return { flags: stdout.trim().split(/\s+/).filter(Boolean), version: version.trim() }
  } catch {
    return undefined
  }
}

/**
 * Builds the C broker unless its binary is newer than its source, and resolves with the
 * binary's path and libzmq's version. Installs `libzmq3-dev` (and `pkg-config`) with
 * apt-get when they are missing and the harness runs as root, unless
 * `BENCH_INSTALL_ZMQ=0`. Rejects with the reason when it cannot build.
 */
export async function buildCBroker (log) {
  const cc = which('cc') ?? which('gcc')
  if (!cc) throw new Error('no C compiler (cc or gcc) on PATH')
  let zmq = await zmqFlags()
  if (!zmq && process.env.BENCH_INSTALL_ZMQ !== '0' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log('  libzmq3-dev is missing: apt-get install -y libzmq3-dev pkg-config')
    try {
      await run('apt-get', ['install', '-y', 'libzmq3-dev', 'pkg-config'], { timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    } catch (error) {
      throw new Error(`libzmq3-dev could not be installed (${error.message.split('\n')[0]})`)
    }
    zmq = await zmqFlags()
  }
  if (!zmq) throw new Error('libzmq3-dev is not installed (apt-get install -y libzmq3-dev pkg-config)')
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(buildDir, { recursive: true })
    log(`  building ${binary} with ${cc}, libzmq ${zmq.version}`)
    try {
      await run(cc, ['-O2', '-Wall', '-o', binary, source, ...zmq.flags], { timeout: 120_000 })
    } catch (error) {
      throw new Error(`the C broker did not build: ${error.stderr?.trim() || error.message}`)
    }
  }
  return { binary, zmqVersion: zmq.version }
}

/**
 * Starts the built C broker with `workers` forked workers and resolves once every
 * worker has said READY, with its pid, endpoints and `stop()` (SIGTERM: the broker
 * stops its workers and exits).
 */
export async function startCBroker ({ binary, workers }) {
  const frontend = `tcp://127.0.0.1:${await freePort()}`
  const backend = `tcp://127.0.0.1:${await freePort()}`
  const child = spawnTracked(binary, [frontend, backend, String(workers)])
  const errors = tail(child.stderr)
  try {
    await waitForLine(child, child.stdout, /^listening frontend=/, 15_000, 'c-broker')
  } catch (error) {
    await stopProcess(child, { signal: 'SIGKILL' })
    error.message += errors.length ? `\n${errors.join('\n')}` : ''
    throw error
  }
  return { child, pid: child.pid, frontend, backend, stop: options => stopProcess(child, options) }
}
