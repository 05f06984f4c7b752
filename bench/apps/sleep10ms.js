// Scenario `async10ms`: an asynchronous job that waits 10 ms without using the CPU.
// It answers how long the wait really took (ms), since timers fire late, never early.
import { setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'
import { withProbe } from '../lib/probe-job.js'

export default withProbe(async () => {
  const start = performance.now()
  await sleep(10)
  return (performance.now() - start).toFixed(3)
})
