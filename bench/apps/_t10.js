// Scenario `fairness`: payload `short` waits 1 ms, `long` waits 200 ms (asynchronously).
// The reply tells when the job started and ended on the shared wall clock, and on which
// worker, so that the harness can rebuild every worker's busy time line.
import { setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'
import { withProbe } from '../lib/probe-job.js'

const now = () => performance.timeOrigin + performance.now()

export default withProbe(async payload => {
  const start = now()
  await sleep(payload.toString('latin1') === 'long' ? 200 : 10)
  return JSON.stringify({ pid: process.pid, start, end: now() })
})
