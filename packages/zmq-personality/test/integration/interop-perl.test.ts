import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import type { Job } from '@net-server/zmq'
import { run, runZmqClient, startProcess, text } from '@net-server/test-support'
import { startAgent, startBroker } from '../support/broker.js'
import { interopPeer, lazyClient, PERL } from '../support/clients.js'
import { fixture } from '../support/fixture.js'

const available = interopPeer('Perl ZMQ::FFI', PERL, ['-MZMQ::FFI', '-e1'], 'apt-get install libzmq-ffi-perl')
const hex = (s: string): string => Buffer.from(s).toString('hex')

/** The seed-style Perl broker with `workers` forked REQ workers; resolves once one has checked in. */
async function startSeedBroker (workers: number): Promise<{ frontend: string, line: (pattern: RegExp) => Promise<RegExpMatchArray> }> {
  const perl = startProcess(PERL, [fixture('seed_broker.pl'), String(workers)], { group: true })
  const [, frontend] = await perl.line(/^bound (\S+) (\S+)$/)
  await perl.line(/^ready child_\d+$/)
  return { frontend: frontend!, line: (pattern) => perl.line(pattern) }
}

describe.skipIf(!available)('Perl ZMQ::FFI interop', () => {
  it('finds ZMQ::FFI', () => {
    expect(spawnSync(PERL, ['-MZMQ::FFI', '-e1']).status, 'perl -MZMQ::FFI failed: install libzmq-ffi-perl').toBe(0)
  })

  it('answers a Perl REQ client, successes and failures', async () => {
    const { broker, frontend, backend } = await startBroker()
    await startAgent(broker, backend, (job: Job) => {
      const text = job.body.map((f) => f.toString())
      if (text[0] === 'die') throw new Error('died in the job')
      return [job.service, ...text.map((t) => t.toUpperCase())]
    })
    const ok = await run(PERL, [fixture('req_client.pl'), frontend, 'hello', 'perl'])
    expect(ok).toMatchObject({ code: 0, stdout: 'default|HELLO|PERL\n', stderr: '' })
    const failed = await run(PERL, [fixture('req_client.pl'), frontend, 'die'])
    expect(failed).toMatchObject({ code: 0, stdout: 'ERROR 500 died in the job\n' })
  })

  describe('a broker in the style of the seed Net::Server::ZMQ', () => {
    it('serves LazyPirateClient, with the identity the seed asks clients to set', async () => {
      const seed = await startSeedBroker(2)
      const client = lazyClient({ endpoint: seed.frontend, identity: 'nsz-lazy-1', timeout: 5000, retries: 1 })
      expect(text(await client.request('hello seed'))).toEqual(['HELLO SEED'])
      expect(text(await client.request('again'))).toEqual(['AGAIN'])
      // The broker routed the requests by the identity the client set.
      await seed.line(new RegExp(`^route ${hex('nsz-lazy-1')} child_\\d+$`))
      // Without an identity, the ROUTER picks one, and replies still find their way.
      const anonymous = lazyClient({ endpoint: seed.frontend, timeout: 5000 })
      expect(text(await anonymous.request('no name'))).toEqual(['NO NAME'])
    })

    it('serves the zmq-client command with --identity', async () => {
      const seed = await startSeedBroker(1)
      const r = await runZmqClient(['-e', seed.frontend, '-i', 'cli-seed', '-t', '5'], 'from the command line\n')
      expect(r).toMatchObject({ code: 0, stdout: 'FROM THE COMMAND LINE\n', stderr: '' })
      await seed.line(new RegExp(`^route ${hex('cli-seed')} child_\\d+$`))
    })
  })
})
