import { execFileSync } from 'node:child_process'
import { hostname } from 'node:os'
import { describe, expect, it, onTestFinished } from 'vitest'
import { NetLab, TestProcess, run, skipWithoutNetns } from '@net-server/test-support'

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n !== '')

/** On host `from`, a TCP connection to `address:port`: 'connected', or the error code. */
async function connect (lab: NetLab, from: string, address: string, port: number): Promise<string> {
  const { command, args } = lab.command(from, [process.execPath, '-e',
    `const s = require('node:net').connect(${port}, '${address}'); s.setTimeout(1000, () => { console.log('ETIMEDOUT'); process.exit() });` +
    ' s.on(\'connect\', () => { console.log(\'connected\'); process.exit() }); s.on(\'error\', (e) => { console.log(e.code); process.exit() })'])
  return (await run(command, args)).stdout.trim()
}

describe.skipIf(skipWithoutNetns('the network-namespace harness tests'))('NetLab', () => {
  it('makes hosts with their own stacks on one switch, cuts and restores a link, and removes everything', async () => {
    const lab = NetLab.create(['a', 'b'])
    onTestFinished(() => { lab.close() })
    const [a, b] = [lab.host('a'), lab.host('b')]
    expect([a.address, b.address]).toEqual(['10.250.0.1', '10.250.0.2'])
    expect(namespaces()).toEqual(expect.arrayContaining([a.ns, b.ns]))
    expect(a.ns).toMatch(new RegExp(`^nszlab-${process.pid}-[0-9a-f]{6}-0$`))

    const { command, args } = lab.command('b', [process.execPath, '-e', "require('node:net').createServer().listen(7000, '10.250.0.2', () => console.log('up'))"])
    const server = new TestProcess(command, args, { json: false })
    await server.line(/^up$/)
    expect(await connect(lab, 'a', b.address, 7000)).toBe('connected')
    // Each host has its own loopback: b's server is not on a's 127.0.0.1, nor on the runner's network.
    expect(await connect(lab, 'a', '127.0.0.1', 7000)).toBe('ECONNREFUSED')

    lab.cut('b')
    expect(await connect(lab, 'a', b.address, 7000)).toMatch(/^(ETIMEDOUT|EHOSTUNREACH)$/)
    lab.restore('b')
    expect(await connect(lab, 'a', b.address, 7000)).toBe('connected')

    // A host name of its own, in a UTS namespace of its own; the runner's is untouched.
    const named = lab.command('a', [process.execPath, '-p', "require('node:os').hostname()"], 'lab-host-a')
    expect((await run(named.command, named.args)).stdout.trim()).toBe('lab-host-a')
    const unnamed = lab.command('a', [process.execPath, '-p', "require('node:os').hostname()"])
    expect((await run(unnamed.command, unnamed.args)).stdout.trim()).toBe(hostname())

    await server.kill()
    lab.close()
    expect(namespaces().filter((n) => n.startsWith(a.ns.slice(0, -2)))).toEqual([])
    expect(() => lab.host('c')).toThrow('no host c in the lab (a, b)')
  })
})
