/**
 * USR1 in the parent tells each child to reopen its log, whatever the child is doing:
 * one that listens is told at once, one that does not listen yet is told when it asks
 * for its bootstrap data. The children here are stand-ins that record what they are
 * sent, so the order of events is the test's, not the machine's.
 */
import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createContainer } from '@net-server/core'
import { PROCESS_SPAWNER, PreForkServer, type ProcessSpawner } from '@net-server/prefork'
import { nextEvent } from '@net-server/test-support'

/** A child process that never runs: it records the messages its parent sends, and ends when told to stop. */
class StandIn extends EventEmitter {
  static #nextPid = 4_000_000
  readonly pid = StandIn.#nextPid++
  connected = true
  readonly sent: unknown[] = []
  send (message: unknown, _handle?: unknown, callback?: (err: Error | null) => void): boolean {
    this.sent.push(message)
    callback?.(null)
    if ((message as { nsz?: string }).nsz === 'stop') this.kill()
    return true
  }

  kill (): boolean {
    setImmediate(() => { this.emit('exit', null, 'SIGTERM') })
    return true
  }

  /** What a pool child says over IPC. */
  say (message: unknown): void {
    this.emit('message', message)
  }

  reopens (): number {
    return this.sent.filter((m) => (m as { nsz?: string }).nsz === 'reopen-log').length
  }
}

class Parent extends PreForkServer {
  protected override async accept (): Promise<undefined> { return undefined }
  protected override async processRequest (): Promise<void> {}
  /** What USR1 does. */
  async usr1 (): Promise<void> { await this.signalHandlers().SIGUSR1!() }
}

async function startParent (minServers: number): Promise<{ server: Parent, children: StandIn[] }> {
  const children: StandIn[] = []
  const spawner: ProcessSpawner = {
    spawn: () => {
      const child = new StandIn()
      children.push(child)
      return child as unknown as ChildProcess
    }
  }
  const container = createContainer()
  container.register(PROCESS_SPAWNER, { useValue: spawner })
  const server = new Parent({ argv: false, handleSignals: false, logLevel: 0, minServers, minSpareServers: 0, maxRequests: 0 }, container)
  const spawned = nextEvent(server, 'childSpawn', 5000)
  const running = server.run()
  onTestFinished(async () => {
    await server.close()
    await running
  })
  await spawned
  while (children.length < minServers) await nextEvent(server, 'childSpawn', 5000)
  return { server, children }
}

describe('USR1 and the children', () => {
  it('tells a ready child and a booting one that listens at once, and one that does not listen yet when it asks for its bootstrap data', async () => {
    const { server, children } = await startParent(3)
    const [ready, listening, silent] = children as [StandIn, StandIn, StandIn]
    ready.say({ nsz: 'boot' })
    ready.say({ nsz: 'ready' })
    listening.say({ nsz: 'boot' })

    await server.usr1()
    expect([ready.reopens(), listening.reopens(), silent.reopens()]).toEqual([1, 1, 0])

    silent.say({ nsz: 'boot' })
    expect(silent.sent).toEqual([{ nsz: 'bootstrap', data: null }, { nsz: 'reopen-log' }])
    // Told once for each USR1, however it was told.
    await server.usr1()
    expect(children.map((c) => c.reopens())).toEqual([2, 2, 2])
  })

  it('does not tell a child that started after the USR1', async () => {
    const { server, children } = await startParent(1)
    await server.usr1()
    const later = nextEvent(server, 'childSpawn', 5000)
    children[0]!.emit('exit', 1, null)
    await later
    children[1]!.say({ nsz: 'boot' })
    expect(children[1]!.sent).toEqual([{ nsz: 'bootstrap', data: null }])
  })
})
