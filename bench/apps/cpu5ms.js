// Scenario `cpu5ms`: a job that keeps one core busy for 5 ms (a CPU-bound job).
import { performance } from 'node:perf_hooks'
import { withProbe } from '../lib/probe-job.js'

export default withProbe(() => {
  const end = performance.now() + 5
  let spins = 0
  while (performance.now() < end) spins++
  return String(spins)
})
