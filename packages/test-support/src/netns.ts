/**
 * Hosts made of Linux network namespaces, for tests that cross real separate network
 * stacks: each host is a namespace with one interface, `eth0`, cabled by a veth pair to
 * a bridge that lives in a namespace of its own (the switch), so nothing is added to
 * the test runner's own network. Addresses are 10.250.0.x, inside the namespaces only.
 * Names carry the runner's pid and a random tag: runs never collide, and the leftovers
 * of a run that died are removed by the next one. Root only.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { it } from 'vitest'

const PREFIX = 'nszlab-'
const SUBNET = '10.250.0'

/** One host of a {@link NetLab}. */
export interface LabHost {
  /** The name the test gave it. */
  readonly name: string
  /** Its network namespace. */
  readonly ns: string
  /** Its address on the lab's network, e.g. `10.250.0.2`. */
  readonly address: string
  /** Its switch port, in the switch's namespace: what {@link NetLab.cut} takes down. */
  readonly port: string
}

function ip (args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes the namespaces of labs whose test runner has gone. */
function removeStale (): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const ns = line.split(' ')[0] ?? ''
    const pid = /^nszlab-(\d+)-/.exec(ns)?.[1]
    if (pid !== undefined && !isAlive(Number(pid))) ip(['netns', 'delete', ns])
  }
}

/** Several hosts on one switch. Make it with {@link NetLab.create}; {@link NetLab.close} removes everything. */
export class NetLab {
  readonly hosts: ReadonlyMap<string, LabHost>
  readonly #switch: string
  #closed = false

  private constructor (switchNs: string, hosts: ReadonlyMap<string, LabHost>) {
    this.#switch = switchNs
    this.hosts = hosts
  }

  /**
   * Makes a switch and one host per name (10.250.0.1 for the first, and so on), every
   * link up. What was made is removed again when a step fails; the lab also removes
   * itself when the process exits.
   */
  static create (names: readonly string[]): NetLab {
    removeStale()
    const id = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`
    const switchNs = `${id}-sw`
    const hosts = new Map<string, LabHost>()
    names.forEach((name, i) => hosts.set(name, { name, ns: `${id}-${i}`, address: `${SUBNET}.${i + 1}`, port: `p${i}` }))
    const lab = new NetLab(switchNs, hosts)
    process.once('exit', () => { lab.close() })
    try {
      ip(['netns', 'add', switchNs])
      ip(['-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge'])
      ip(['-n', switchNs, 'link', 'set', 'br0', 'up'])
      for (const host of hosts.values()) {
        ip(['netns', 'add', host.ns])
        ip(['-n', host.ns, 'link', 'set', 'lo', 'up'])
        ip(['link', 'add', 'eth0', 'netns', host.ns, 'type', 'veth', 'peer', 'name', host.port, 'netns', switchNs])
        ip(['-n', switchNs, 'link', 'set', host.port, 'master', 'br0', 'up'])
        ip(['-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0'])
        ip(['-n', host.ns, 'link', 'set', 'eth0', 'up'])
      }
    } catch (err) {
      lab.close()
      throw err
    }
    return lab
  }

  /** The host named `name`; fails for a name the lab was not made with. */
  host (name: string): LabHost {
    const host = this.hosts.get(name)
    if (host === undefined) throw new Error(`no host ${name} in the lab (${[...this.hosts.keys()].join(', ')})`)
    return host
  }

  /**
   * The command that runs `argv` on host `name`: `ip netns exec NS …argv`. With
   * `hostname`, the process also gets a UTS namespace of its own, where the host name is
   * that (`unshare --uts`): each host of the lab then has a name of its own, as real
   * hosts do, instead of the runner's. Every step execs the next: the process is `argv`'s.
   */
  command (name: string, argv: readonly string[], hostname?: string): { command: string, args: string[] } {
    const uts = hostname === undefined ? [] : ['unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname]
    return { command: 'ip', args: ['netns', 'exec', this.host(name).ns, ...uts, ...argv] }
  }

  /** Pulls host `name`'s cable: its switch port goes down, and with it its `eth0`'s carrier. */
  cut (name: string): void {
    ip(['-n', this.#switch, 'link', 'set', this.host(name).port, 'down'])
  }

  /** Plugs host `name`'s cable back in. */
  restore (name: string): void {
    ip(['-n', this.#switch, 'link', 'set', this.host(name).port, 'up'])
  }

  /**
   * Removes every namespace of the lab (their veth pairs go with them). Processes still
   * inside keep their namespace alive until they exit: stop them first. Idempotent.
   */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    for (const ns of [...[...this.hosts.values()].map((h) => h.ns), this.#switch]) {
      try {
        ip(['netns', 'delete', ns])
      } catch {
        // Never made (a failed create) or already gone.
      }
    }
  }
}

/** Why network namespaces cannot be made here (not root, no `ip`, no permission), or `undefined` when they can. */
export function netnsUnavailable (): string | undefined {
  if (process.getuid?.() !== 0) return `they need root, and this process runs as uid ${process.getuid?.() ?? '?'}`
  const probe = `${PREFIX}${process.pid}-probe`
  try {
    ip(['netns', 'add', probe])
    ip(['netns', 'delete', probe])
    return undefined
  } catch (err) {
    return `ip netns add fails here: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`
  }
}

/**
 * Whether the network-namespace tests `what` are skipped in this process: where
 * namespaces cannot be made it warns and skips, or with `NSZ_REQUIRE_ROOT=1` (CI, as
 * root) adds a failing test saying why. Call it at a test file's top level.
 */
export function skipWithoutNetns (what: string): boolean {
  const why = netnsUnavailable()
  if (why === undefined) return false
  if (process.env.NSZ_REQUIRE_ROOT === '1') {
    it(`${what} run where network namespaces can be made, as NSZ_REQUIRE_ROOT=1 demands`, () => {
      throw new Error(`${what} cannot run: ${why}`)
    })
    return false
  }
  console.warn(`${what} skipped: ${why} (NSZ_REQUIRE_ROOT=1 makes this a failure; CI sets it and runs as root)`)
  return true
}
