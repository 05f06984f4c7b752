import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createContainer } from '@net-server/core'
import { CHILD_ENV, PROCESS_SPAWNER, PreForkServer, type ProcessSpawner, type SpawnRequest } from '@net-server/prefork'
import { TSX } from '@net-server/test-support'
import { fixture } from '../support/pool.js'

/** The next `event` of `server`, with its arguments. */
async function next (server: Parent, event: 'childReady' | 'childExit'): Promise<unknown[]> {
  return await new Promise((resolve) => { server.once(event, (...args: unknown[]) => resolve(args)) })
}

class Parent extends PreForkServer {
  protected override async accept (): Promise<undefined> { return undefined }
  protected override async processRequest (): Promise<void> {}
  pids (): number[] { return this.children().map((c) => c.pid) }
}

describe('PROCESS_SPAWNER', () => {
  it('starts children through the registered spawner, with the child marker, the entry module and the arguments', async () => {
    const requests: SpawnRequest[] = []
    const spawner: ProcessSpawner = {
      spawn: (request) => {
        requests.push(request)
        // The test runner's own flags and arguments mean nothing to the fixture: run it with tsx.
        return spawn(process.execPath, [...TSX, request.module, '--log-level', '1'], {
          env: request.env,
          stdio: ['ignore', 'ignore', 'inherit', 'ipc']
        })
      }
    }
    const container = createContainer()
    container.register(PROCESS_SPAWNER, { useValue: spawner })
    const server = new Parent({
      argv: false,
      handleSignals: false,
      logLevel: 1,
      minServers: 1,
      minSpareServers: 0,
      maxRequests: 0,
      workerModule: fixture('line-pool.ts')
    }, container)
    const running = server.run()
    onTestFinished(async () => {
      for (const pid of server.pids()) {
        try { process.kill(pid, 'SIGKILL') } catch {} // gone already
      }
      await server.close()
    })
    const [pid] = await next(server, 'childReady') as [number]
    expect(server.children()).toMatchObject([{ pid, state: 'waiting', jobs: 0, generation: 0, retiring: false }])
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({
      execPath: process.execPath,
      execArgv: process.execArgv,
      module: resolve(fixture('line-pool.ts')),
      args: process.argv.slice(2)
    })
    expect(requests[0]!.env[CHILD_ENV]).toBe(String(process.pid))

    const exited = next(server, 'childExit')
    await server.close()
    await running
    expect(await exited).toEqual([pid, 0, null])
    expect(server.children()).toEqual([])
  })
})
