import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { groupAlive, tempDir } from '@net-server/test-support'
import { runNsz, serve, statusJson } from '../support/cli.js'
import { fixture } from '../support/fixture.js'

/** The one line a failed command must print: `nsz: …`, no stack, nothing else. */
function expectOneLine (stderr: string, message: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.length > 0)
  expect(lines, stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^nsz: /)
  expect(lines[0]).toMatch(message)
}

describe('nsz: bad input gets one line on stderr, a non-zero exit and no process left', () => {
  const cases: Array<[what: string, args: string[], code: number, message: RegExp]> = [
    ['an unknown flag', ['serve', '--bogus'], 2, /^nsz: unknown option '--bogus' \(see nsz serve --help\)$/],
    ['a misspelt flag', ['serve', '--max-queu', '3'], 2, /^nsz: unknown option '--max-queu' \(did you mean --max-queue\?\)$/],
    ['an unknown command', ['server'], 2, /^nsz: unknown command 'server' \(did you mean serve\?\)$/],
    ['a flag without its value', ['serve', '--min-servers'], 2, /^nsz: option '--min-servers <n>' argument missing/],
    ['two APP arguments', ['serve', 'a.js', 'b.js'], 2, /too many arguments for 'serve'/],
    ['a port list that is not two ports', ['serve', '--port', '6660'], 2, /^nsz: --port must be two ports, frontend and backend, like 6660,6661 \(0 picks a free port\), got '6660'$/],
    ['a port out of range', ['serve', '--port', '70000,0'], 2, /^nsz: --port must hold two ports from 0 to 65535, got 70000$/],
    ['a count that is not a number', ['serve', '--min-servers', 'five'], 2, /^nsz: --min-servers must be a number, got 'five'$/],
    ['a concurrency of 0', ['serve', '--concurrency', '0'], 2, /^nsz: --concurrency must be an integer from 1 to 1024, got 0$/],
    ['a concurrency past 1024', ['worker', '--connect', 'tcp://127.0.0.1:1', '--concurrency', '1025'], 2, /^nsz: --concurrency must be an integer from 1 to 1024, got 1025$/],
    ['a concurrency that is not whole', ['serve', '--concurrency', '2.5'], 2, /^nsz: --concurrency must be an integer, got 2\.5$/],
    ['nsz dashboard without a server to ask', ['dashboard'], 2, /^nsz: nsz dashboard needs --pid-file FILE \(the one nsz serve was started with\) or --control ENDPOINT$/],
    ['the dashboard without the metrics endpoint', ['serve', '--dashboard'], 2, /^nsz: --dashboard needs --metrics-port: the dashboard is served at \/ of the metrics endpoint$/],
    ['dashboard actions without a token', ['serve', '--metrics-port', '0', '--dashboard', '--dashboard-actions'], 2, /^nsz: --dashboard-actions needs --dashboard-token: actions are taken only for requests that carry it$/],
    ['dashboard actions without the dashboard', ['serve', '--metrics-port', '0', '--dashboard-actions'], 2, /^nsz: --dashboard-actions needs --dashboard$/],
    ['a short dashboard token, not echoed', ['serve', '--dashboard-token', 'secret'], 2, /^nsz: --dashboard-token must be at least 16 characters, without spaces$/],
    ['a negative duration, said in seconds', ['serve', '--job-timeout', '-1'], 2, /^nsz: --job-timeout must be at least 0 seconds, got '-1'$/],
    ['a duration under its minimum', ['serve', '--heartbeat-interval', '0.001'], 2, /^nsz: --heartbeat-interval must be at least 0.01 seconds, got '0.001'$/],
    ['a log level out of range', ['serve', '--log-level', '9'], 2, /^nsz: --log-level must be an integer from 0 to 4, got 9$/],
    ['flags that contradict each other', ['serve', '--port', '0,0', '--min-servers', '9', '--max-servers', '2'], 2, /^nsz: --min-servers \(9\) must not exceed --max-servers \(2\)/],
    ['a missing APP module', ['serve', '--port', '0,0', 'no-such-app.js'], 2, /^nsz: APP module no-such-app\.js not found/],
    ['an APP module that throws while loading', ['serve', '--port', '0,0', fixture('cli-throws.js')], 1, /^nsz: APP module .*cli-throws\.js failed to load: the database is down$/],
    ['an APP whose default export is not callable', ['serve', '--port', '0,0', fixture('cli-not-callable.js')], 2, /^nsz: APP module .*cli-not-callable\.js: its default export must be a job function, .* \(got a number\)$/],
    ['a ZmqServer subclass given to nsz worker', ['worker', '--connect', 'tcp://127.0.0.1:1', fixture('cli-subclass.js')], 2, /exports a ZmqServer subclass: run it with nsz serve/],
    ['nsz worker without --connect', ['worker'], 2, /^nsz: --connect must be the broker's backend endpoint/],
    ['a conf file that does not exist', ['serve', '--port', '0,0', '--conf-file', '/nonexistent/nsz.conf'], 2, /^nsz: conf file \/nonexistent\/nsz\.conf: cannot be read \(ENOENT\): check --conf-file$/],
    ['nsz status without a pid file', ['status'], 2, /^nsz: nsz status needs --pid-file FILE/],
    ['nsz status with a bad timeout', ['status', '--pid-file', 'x', '--timeout', 'soon'], 2, /^nsz: --timeout must be a number of seconds above 0, got 'soon'$/]
  ]

  it.each(cases)('%s', async (_what, args, code, message) => {
    const result = await runNsz(args)
    expect(result.code).toBe(code)
    expectOneLine(result.stderr, message)
    expect(result.stdout).toBe('')
  })

  it('refuses a conf file line with a bad value, naming the line', async () => {
    const conf = join(tempDir(), 'nsz.conf')
    writeFileSync(conf, '# pool\nmin_servers 2\nmax_queue lots\n')
    const result = await runNsz(['serve', '--port', '0,0', '--conf-file', conf])
    expect(result.code).toBe(2)
    expectOneLine(result.stderr, new RegExp(`^nsz: conf file ${conf}: line 3: maxQueue must be a number, got 'lots'$`))
  })

  it('prints the stack too with --log-level 4', async () => {
    const result = await runNsz(['serve', '--port', '0,0', '--log-level', '4', fixture('cli-throws.js')])
    expect(result.code).toBe(1)
    const lines = result.stderr.split('\n')
    expect(lines[0]).toMatch(/^nsz: APP module .* failed to load: the database is down$/)
    expect(lines.slice(1).some((l) => /^\s+at /.test(l))).toBe(true)
  })

  it('does not start on a port in use, and the running server is unharmed', async () => {
    const first = await serve(['--min-servers', '1', '--log-level', '1', fixture('cli-app.js')])
    const port = /:(\d+)$/.exec(first.frontend)![1]!
    const result = await runNsz(['serve', '--port', `${port},0`, '--min-servers', '1', fixture('cli-app.js')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, new RegExp(`^nsz: cannot bind the broker frontend to tcp://127\\.0\\.0\\.1:${port}: Address already in use$`))
    expect(result.stdout).toBe('')
    expect(groupAlive(first.proc.pid)).toBe(true)
  })

  it('does not start on a pid file held by a live server, and leaves that file alone', async () => {
    const pidFile = join(tempDir(), 'nsz.pid')
    const first = await serve(['--min-servers', '1', '--log-level', '1', '--pid-file', pidFile, fixture('cli-app.js')])
    const result = await runNsz(['serve', '--port', '0,0', '--min-servers', '1', '--pid-file', pidFile, fixture('cli-app.js')])
    expect(result.code).toBe(1)
    expectOneLine(result.stderr, new RegExp(`^nsz: pid file ${pidFile} belongs to running process ${first.proc.pid}: stop that server first, or choose another --pid-file$`))
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(first.proc.pid))
    // its status socket still answers
    expect((await statusJson(pidFile)).pid).toBe(first.proc.pid)
  })
})
