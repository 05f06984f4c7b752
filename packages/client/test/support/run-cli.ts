import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

const BIN = fileURLToPath(new URL('../../src/bin/zmq-client.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly elapsed: number
}

/** Runs `zmq-client` as a real process with `input` on its stdin; kills it after `deadline` ms. */
export function runCli (args: readonly string[], input = '', deadline = 20_000): Promise<CliResult> {
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@net-server/source', BIN, ...args], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe']
  })
  onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdin.end(input)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`zmq-client ${args.join(' ')} still running after ${deadline} ms; stderr: ${stderr}`))
    }, deadline)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, elapsed: performance.now() - started })
    })
  })
}
