/**
 * Processes started by the benchmark: each one is spawned as the leader of its own
 * process group, so that stopping it also stops whatever it forked (a broker's
 * workers). Every process is killed when the benchmark exits, fails or is interrupted.
 */
import { spawn, fork } from 'node:child_process'
import { createInterface } from 'node:readline'
import { once } from 'node:events'

const live = new Set()

/** Sends `signal` to the whole process group of `child`; quiet when it is already gone. */
export function signalGroup (child, signal) {
  try {
    process.kill(-child.pid, signal)
  } catch {}
}

function track (child) {
  live.add(child)
  child.exited = new Promise(resolve => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      resolve({ code, signal })
    })
  })
  // A child that never started (spawn error) must not crash the run through an unhandled event.
  child.once('error', () => {})
  return child
}

/** Spawns a tracked command in its own process group; stdout and stderr are piped. */
export function spawnTracked (command, args, options = {}) {
  return track(spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...options
  }))
}

/** Forks a tracked Node module with an IPC channel, in its own process group. */
export function forkTracked (modulePath, args = [], options = {}) {
  return track(fork(modulePath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    ...options
  }))
}

/**
 * Stops `child`: `signal` to the process alone (so that a broker can shut its workers
 * down itself), then SIGKILL to its group after `graceMs` or once it has exited, so
 * that no descendant outlives it.
 */
export async function stopProcess (child, { signal = 'SIGTERM', graceMs = 5000 } = {}) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, signal)
    } catch {}
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs)
    await child.exited
    clearTimeout(timer)
  }
  signalGroup(child, 'SIGKILL')
}

/** Kills every live process group at once, synchronously (for exit paths). */
export function killAll () {
  for (const child of live) signalGroup(child, 'SIGKILL')
}

/** Installs the exit, signal and crash handlers that kill every started process. */
export function installCleanup () {
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping every started process\n`)
      killAll()
      process.exit(130)
    })
  }
  process.on('uncaughtException', error => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`)
    killAll()
    process.exit(1)
  })
  process.on('unhandledRejection', error => {
    process.stderr.write(`bench: unhandled rejection: ${error?.stack ?? error}\n`)
    killAll()
    process.exit(1)
  })
}

/**
 * Keeps the last lines that `stream` printed, for error messages about a process
 * that failed to start.
 */
export function tail (stream, max = 20) {
  const lines = []
  createInterface({ input: stream }).on('line', line => {
    lines.push(line)
    if (lines.length > max) lines.shift()
  })
  return lines
}

/**
 * Resolves with the match of the first line of `stream` that matches `pattern`;
 * rejects when the process exits first or after `timeoutMs`.
 */
export function waitForLine (child, stream, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: stream })
    const done = (error, value) => {
      clearTimeout(timer)
      rl.removeListener('line', onLine)
      child.removeListener('exit', onExit)
      error ? reject(error) : resolve(value)
    }
    const onLine = line => {
      const match = pattern.exec(line)
      if (match) done(null, match)
    }
    const onExit = (code, signal) => done(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready`))
    const timer = setTimeout(() => done(new Error(`${what} was not ready within ${timeoutMs} ms`)), timeoutMs)
    rl.on('line', onLine)
    child.once('exit', onExit)
  })
}

/**
 * Queues every IPC message of `child` from now on, so that none is lost between two
 * waits. `next(types, timeoutMs)` resolves with the next queued message whose `type` is
 * one of `types`, and rejects when the child exits first or after `timeoutMs`.
 */
export function inbox (child, what) {
  const queue = []
  let wake = () => {}
  child.on('message', message => {
    queue.push(message)
    wake()
  })
  child.once('exit', () => wake())
  const next = async (types, timeoutMs) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = queue.findIndex(message => types.includes(message?.type))
      if (index >= 0) return queue.splice(index, 1)[0]
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${what} exited (code ${child.exitCode}, signal ${child.signalCode}) without a result`)
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${what} gave no result within ${timeoutMs} ms`)
      // Sleeps until the next message, the exit, or the deadline, whichever comes first.
      await new Promise(resolve => {
        const timer = setTimeout(resolve, left)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }
  return { next }
}

export { once }
