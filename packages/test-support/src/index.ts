// Test support shared by the workspace's tests: one process harness for fixtures
// that print JSON-line events, and the async, process, temp-dir, ZeroMQ, client and
// docs helpers. Private to the workspace: no published package depends on it.
export { within, rejection, deferred, nextEvent, eventually } from './async.js'
export type { Deferred } from './async.js'
export { TestProcess, TSX, ROOT, startProcess, startTs, run } from './process.js'
export type { Exit, ProcessEvent, JsonEvent, TestProcessOptions, RunResult } from './process.js'
export { PoolProcess, FAST_POOL } from './pool-process.js'
export type { PoolEvent } from './pool-process.js'
export { report, reportPoolEvents } from './report.js'
export type { PoolEmitter } from './report.js'
export { procStat, alive, groupAlive, allGone, groupGone, title, cpuSeconds, stop, liveProcess, deadPid } from './pids.js'
export { tempDir } from './temp.js'
export { LOOPBACK, track, connectable, portOf, deadEndpoint, freePorts } from './zmq.js'
export { closing, b, text, statusOf, runZmqClient } from './client.js'
export { errorTable, documentedCodes } from './docs.js'
export type { ErrorRow } from './docs.js'
export { API_KINDS, describePublicApi, documentedNames, exportedNames } from './public-api.js'
export type { ApiKind, DocumentedName, ExportedNames, PublicApiCheck } from './public-api.js'
