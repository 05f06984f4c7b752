import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ExitCode, runZmqClient } from '@net-server/client'
import { startBroker } from '../support/fake-broker.js'

function io (input: string, tty: boolean) {
  const stdout = new PassThrough()
  const stderr = Object.assign(new PassThrough(), { isTTY: tty })
  const out: string[] = []
  const err: string[] = []
  stdout.on('data', (d: Buffer) => out.push(d.toString()))
  stderr.on('data', (d: Buffer) => err.push(d.toString()))
  return { io: { stdin: Readable.from([Buffer.from(input)]), stdout, stderr }, out, err }
}

describe('main(argv, io)', () => {
  it('draws progress on stderr when it is a terminal, and never on stdout', async () => {
    const broker = await startBroker()
    const t = io('a\nb\nc\n', true)
    expect(await runZmqClient(['-e', broker.endpoint, '--lines'], t.io)).toBe(ExitCode.OK)
    expect(t.out.join('')).toBe('A\nB\nC\n')
    const progress = t.err.join('')
    expect(progress.endsWith('\r\u001b[Kzmq-client: 3 done, 0 in flight\n')).toBe(true)
  })

  it('draws no progress when stderr is not a terminal', async () => {
    const broker = await startBroker()
    const t = io('a\nb\n', false)
    expect(await runZmqClient(['-e', broker.endpoint, '--lines'], t.io)).toBe(ExitCode.OK)
    expect(t.err.join('')).toBe('')
  })

  it('returns exit codes instead of exiting', async () => {
    const t = io('', false)
    expect(await runZmqClient(['--timeout', '0'], t.io)).toBe(ExitCode.USAGE)
    expect(t.err.join('')).toBe("zmq-client: --timeout must be a number of seconds > 0 (got '0')\n")
  })
})
