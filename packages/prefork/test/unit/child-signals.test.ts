import { describe, expect, it } from 'vitest'
import type { SignalHandlers } from '@net-server/core'
import { PreForkServer, type ResolvedPreForkOptions } from '@net-server/prefork'
import { ChildRuntime, childSignalHandlers, type ChildHost } from '../../src/child-runtime.js'

/** A pool whose signal table a test can read. */
class Pool extends PreForkServer {
  protected override async accept (): Promise<undefined> { return undefined }
  protected override async processRequest (): Promise<void> {}
  table (): SignalHandlers { return this.signalHandlers() }
}

/** A pool that adds a parent-only signal of its own to the table. */
class PoolWithUsr2 extends Pool {
  usr2 = 0
  protected override signalHandlers (): SignalHandlers {
    return { ...super.signalHandlers(), SIGUSR2: () => { this.usr2++ } }
  }
}

/** A child runtime whose server records what the runtime asks of it. */
function runtime (): { child: ChildRuntime, calls: string[] } {
  const calls: string[] = []
  const host: ChildHost = {
    stopping: () => false,
    options: () => ({}) as unknown as ResolvedPreForkOptions,
    log: () => {},
    reopenLog: () => { calls.push('reopenLog') },
    close: async (graceful) => { calls.push(`close ${String(graceful)}`) },
    hurry: async () => { calls.push('hurry') },
    failed: (message) => { calls.push(`failed ${message}`) }
  }
  return { child: new ChildRuntime(host), calls }
}

const keys = (table: SignalHandlers): string[] => Object.keys(table).sort()

describe('the signals of a child', () => {
  it('derive from a table: every signal in it is ignored unless the child has its own action', () => {
    const own = { SIGTERM: () => 'own' }
    const table = childSignalHandlers({ SIGTERM: () => 'parent', SIGHUP: () => 'parent', SIGUSR2: () => 'parent' }, own)
    expect(keys(table)).toEqual(['SIGHUP', 'SIGTERM', 'SIGUSR2'])
    expect(table.SIGTERM).toBe(own.SIGTERM)
    expect(table.SIGHUP!()).toBeUndefined()
    expect(table.SIGUSR2!()).toBeUndefined()
  })

  it("are exactly the parent's: the same signals, all ignored but TERM (stop this child) and USR1 (reopen its log)", async () => {
    const parent = new Pool({ argv: false }).table()
    expect(keys(parent)).toEqual(['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1'])
    const { child, calls } = runtime()
    const table = child.signalTable(parent)
    expect(keys(table)).toEqual(keys(parent))

    for (const signal of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTTIN', 'SIGTTOU'] as const) await table[signal]!()
    expect(calls).toEqual([])
    await table.SIGUSR1!()
    await table.SIGTERM!()
    expect(calls).toEqual(['reopenLog', 'close false'])
  })

  it('ignore a signal added to the parent\'s table, without a second list to keep', async () => {
    const server = new PoolWithUsr2({ argv: false })
    const parent = server.table()
    const { child, calls } = runtime()
    const table = child.signalTable(parent)
    expect(keys(table)).toEqual(keys(parent))
    // The same no-op as for the parent's own signals, not the parent's action.
    expect(table.SIGUSR2).toBe(table.SIGHUP)
    expect(table.SIGUSR2).not.toBe(parent.SIGUSR2)
    await table.SIGUSR2!()
    expect(calls).toEqual([])
    expect(server.usr2).toBe(0)
  })
})
