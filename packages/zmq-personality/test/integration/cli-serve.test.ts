import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ZmqServer, WorkerPool } from '@net-server/zmq'
import { kebabCase, type OptionSpec } from '@net-server/core'
import { groupGone, tempDir, text } from '@net-server/test-support'
import { NszClient } from '../support/broker.js'
import { runNsz, serve, statusJson, statusUntil, zmqClient } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

describe('nsz serve', () => {
  it('prints the ready lines, serves through zmq-client, and its children stay quiet workers', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc, frontend, backend } = await serve(['--min-servers', '2', '--min-spare-servers', '0', '--log-level', '1', '--pid-file', pidFile, fixture('cli-app.js')])
    expect(frontend).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    expect(backend).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/)
    await proc.line(/^ready workers=2$/)
    const reply = await zmqClient(frontend, 'hello')
    expect(reply).toEqual({ code: 0, stdout: 'HELLO\n', stderr: '' })
    // The children re-ran nsz.js with the same arguments: as workers, not as brokers.
    const status = await statusJson(pidFile)
    expect(status.pid).toBe(proc.pid)
    expect(status.title).toBe(`zmq broker ${/:(\d+)$/.exec(frontend)![1]}-${/:(\d+)$/.exec(backend)![1]}`)
    expect(status.children).toHaveLength(2)
    expect(proc.lines).toEqual([`listening frontend=${frontend} backend=${backend}`, 'ready workers=2'])
    // It is the broker process itself: TERM goes to it, and it stops with its children.
    proc.proc.kill('SIGTERM')
    expect(await proc.exited()).toBe(0)
    await groupGone(proc.pid)
    expect(proc.stderr).toBe('')
  })

  it('takes TTIN on its own pid: one more worker', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const { proc } = await serve(['--min-servers', '1', '--min-spare-servers', '0', '--log-level', '1', '--pid-file', pidFile])
    await proc.line(/^ready workers=1$/)
    proc.proc.kill('SIGTTIN')
    const status = await statusUntil(pidFile, (s) => s.limits.minServers === 2 && s.children.length === 2, 'a second worker')
    expect(status.limits.maxServers).toBe(51)
  })

  it('serves an APP that maps services to jobs', async () => {
    // Plain REQ requests need a service of the map: --service names it.
    const { frontend } = await serve(['--min-servers', '1', '--log-level', '1', '--service', 'upper', fixture('cli-services.js')])
    const client = new NszClient(frontend)
    expect(text((await client.call('lower', 'ABC')).body)).toEqual(['abc'])
    expect(text((await client.call('upper', 'abc')).body)).toEqual(['ABC'])
    expect((await zmqClient(frontend, 'plain')).stdout).toBe('PLAIN\n')
  })

  it('logs what it refuses at --log-level 3, once per kind and window', async () => {
    const { proc, frontend } = await serve(['--min-servers', '1', '--log-level', '3', '--max-message-size', '4', '--max-queue-per-client', '5', fixture('cli-app.js')])
    const client = new NszClient(frontend)
    for (let i = 0; i < 3; i++) expect((await client.call('default', 'too large')).status).toBe(413)
    await proc.until(() => proc.stderr.includes('refused:tooLarge'), 'the refusal in the log')
    expect(proc.stderr).toMatch(/refused:tooLarge: request body of 9 bytes, over maxMessageSize \(4\)/)
    // The two others of the flood wait for the summary line, ten seconds later.
    expect(proc.stderr.split('refused:tooLarge').length - 1).toBe(1)
  })

  it('runs an APP that subclasses ZmqServer, hooks and all', async () => {
    const { frontend } = await serve(['--min-servers', '1', '--log-level', '1', fixture('cli-subclass.js')])
    expect((await zmqClient(frontend, 'hey')).stdout).toBe('HEY!\n')
  })
})

/** `--help` split into one entry per flag (a flag's description may wrap). */
function helpEntries (help: string): Map<string, string> {
  const entries = new Map<string, string>()
  let current: string | undefined
  for (const line of help.split('\n')) {
    const m = /^ {2}(--[a-z-]+)/.exec(line)
    if (m !== null) {
      current = m[1]!
      entries.set(current, line.trim())
    } else if (current !== undefined && /^ {4,}\S/.test(line)) {
      entries.set(current, `${entries.get(current)!} ${line.trim()}`)
    } else {
      current = undefined
    }
  }
  return entries
}

/** The default a help entry ends with, `(default: X)`; undefined when it shows none. */
function shownDefault (entry: string): string | undefined {
  return /\(default: ([^)]*)\)$/.exec(entry)?.[1]
}

/**
 * How --help shows an option's default: durations in seconds, switches on or off, lists
 * with commas; an option without one may say its default in its description.
 */
function helpDefault (spec: OptionSpec): string | undefined {
  const d = spec.default
  if (typeof d === 'number') return String(spec.kind === 'duration' ? d / 1000 : d)
  if (typeof d === 'boolean') return d ? 'on' : 'off'
  if (Array.isArray(d)) return d.length === 0 ? undefined : d.join(',')
  if (typeof d === 'string') return d
  return shownDefault(spec.description)
}

describe('nsz --help', () => {
  const NOT_FLAGS = new Set(['app', 'argv', 'handleSignals', 'dispatchPolicy'])

  it('lists every server option as a flag with its default, durations in seconds', async () => {
    const { code, stdout } = await runNsz(['serve', '--help'])
    expect(code).toBe(0)
    const entries = helpEntries(stdout)
    const specs = new ZmqServer({ argv: false }).describeOptions()
    for (const [name, spec] of Object.entries(specs)) {
      if (NOT_FLAGS.has(name)) continue
      const flag = `--${kebabCase(name)}`
      const entry = entries.get(flag) ?? ''
      expect(entry, flag).toMatch(new RegExp(`^${flag}( <[^>]+>)? `))
      expect(shownDefault(entry), `the default ${flag} shows`).toBe(helpDefault(spec))
    }
    expect(entries.get('--job-timeout')).toMatch(/^--job-timeout <seconds> .*\(default: 30\)$/)
    expect(entries.get('--port')).toMatch(/^--port <front,back> .*\(default: 6660,6661\)$/)
    expect(entries.get('--heartbeat-interval')).toContain('(default: 2.5)')
    expect(entries.get('--requeue')).toContain('--no-requeue turns it off (default: off)')
    // grouped, sockets first
    expect(stdout.indexOf('Sockets:')).toBeLessThan(stdout.indexOf('Workers:'))
    expect(stdout).toMatch(/Exit codes: 0 stopped cleanly, 1 could not start or failed, 2 bad usage\./)
  })

  it('lists for nsz worker the flags that apply to workers', async () => {
    const { code, stdout } = await runNsz(['worker', '--help'])
    expect(code).toBe(0)
    const entries = helpEntries(stdout)
    expect(entries.get('--connect')).toMatch(/^--connect <endpoint>/)
    for (const flag of ['--min-servers', '--max-requests', '--heartbeat-interval', '--job-timeout', '--pid-file', '--conf-file']) expect(entries.has(flag), flag).toBe(true)
    for (const flag of ['--port', '--host', '--max-queue', '--requeue', '--allow']) expect(entries.has(flag), flag).toBe(false)
    expect(Object.keys(new WorkerPool({ argv: false }).describeOptions())).toContain('connect')
  })

  it('prints the commands, and the version', async () => {
    const help = await runNsz(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/serve \[options\] \[APP\]/)
    expect(help.stdout).toMatch(/worker \[options\] \[APP\]/)
    expect(help.stdout).toMatch(/status \[options\]/)
    const version = await runNsz(['--version'])
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  })
})
