import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { OPTION_GROUPS } from '@net-server/core'
import { WorkerPool, ZmqServer } from '@net-server/zmq'
import { main } from '../../src/cli.js'

/** Runs `nsz <command> --help` in this process and returns what it printed. */
async function help (command: string): Promise<string> {
  let out = ''
  const stdout = new Writable({ write (chunk: Buffer, _encoding, done) { out += chunk.toString(); done() } })
  const stderr = new Writable({ write (_chunk, _encoding, done) { done() } })
  expect(await main([command, '--help'], { stdout, stderr })).toBe(0)
  return out
}

/** `--help` as `heading: ['--flag <placeholder>', ...]`, in the order shown. */
function groups (text: string): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = []
  for (const line of text.split('\n')) {
    if (/^[A-Z][a-z ]+:$/.test(line)) out.push([line, []])
    const flag = /^ {2}(--[a-z-]+(?: <[^>]+>)?)/.exec(line)
    if (flag !== null) out.at(-1)![1].push(flag[1]!)
  }
  return out.filter(([heading]) => heading !== 'Usage:' && heading !== 'Arguments:')
}

const SUPERVISION = ['--check-for-dead <seconds>', '--check-for-waiting <seconds>', '--check-for-spawn <seconds>', '--min-child-ttl <seconds>', '--child-start-timeout <seconds>', '--boot-failure-limit <n>', '--boot-backoff-base <seconds>', '--boot-backoff-max <seconds>']
const WORKERS = ['--min-servers <n>', '--max-servers <n>', '--min-spare-servers <n>', '--max-spare-servers <n>', '--max-requests <n>', '--max-requests-jitter <n>', '--worker-module <file>', '--concurrency <n>']
const PROCESS = ['--log-level <0-4>', '--log-file <file>', '--pid-file <file>', '--conf-file <file>', '--user <name>', '--group <name>']

describe('nsz --help, built from the option specs', () => {
  it('lists each flag of nsz serve under its group, in order, with its placeholder', async () => {
    expect(groups(await help('serve'))).toEqual([
      ['Sockets:', ['--port <front,back>', '--host <address>', '--frontend <endpoint>', '--backend <endpoint>', '--service <name>', '--control-endpoint <endpoint>', '--metrics-port <port>', '--metrics-host <address>', '--dashboard', '--dashboard-actions', '--dashboard-token <token>']],
      // The pool grows for waiting requests only where it sees the queue: nsz serve.
      ['Workers:', [...WORKERS.slice(0, 4), '--scale-up-wait <seconds>', '--scale-up-cooldown <seconds>', ...WORKERS.slice(4)]],
      ['Jobs:', ['--job-timeout <seconds>', '--max-queue <n>', '--max-queue-per-client <n>', '--queue-timeout <seconds>', '--max-client-buffer <n>', '--max-services-per-worker <n>', '--max-services <n>', '--max-message-size <n>', '--requeue', '--service-grace <seconds>', '--heartbeat-interval <seconds>', '--heartbeat-liveness <n>', '--graceful-timeout <seconds>']],
      ['Process:', PROCESS],
      ['Access:', ['--allow <pattern>', '--deny <pattern>', '--cidr-allow <cidr>', '--cidr-deny <cidr>']],
      ['Security:', ['--curve <value>', '--curve-secret-key <value>', '--curve-key-file <file>', '--client-keys <value>', '--worker-keys <value>', '--insecure-backend']],
      ['Supervision:', SUPERVISION],
      ['Options:', []]
    ])
  })

  it('leaves the broker\'s options out of nsz worker, and lists --connect first', async () => {
    expect(groups(await help('worker'))).toEqual([
      ['Sockets:', ['--connect <endpoint>', '--service <name>', '--control-endpoint <endpoint>']],
      // --mdp and --host-label are the pool's alone: a server's own children announce their pids, on its host.
      ['Workers:', [...WORKERS, '--mdp', '--host-label <name>']],
      ['Jobs:', ['--job-timeout <seconds>', '--heartbeat-interval <seconds>', '--heartbeat-liveness <n>', '--graceful-timeout <seconds>']],
      ['Process:', PROCESS],
      ['Security:', ['--curve-secret-key <value>', '--curve-key-file <file>', '--curve-server-key <value>']],
      ['Supervision:', SUPERVISION],
      ['Options:', []]
    ])
  })

  it('gives every option that can be a flag a group of OPTION_GROUPS; code-only options have no parse', () => {
    for (const specs of [new ZmqServer({ argv: false }).describeOptions(), new WorkerPool({ argv: false }).describeOptions()]) {
      for (const [name, spec] of Object.entries(specs)) {
        if (spec.parse === undefined || spec.flag === false) continue
        expect(OPTION_GROUPS, name).toContain(spec.group)
      }
      expect(specs.app!.parse).toBeUndefined()
      expect(specs.argv!.parse).toBeUndefined()
      expect(specs.handleSignals!.flag).toBe(false)
    }
  })
})
