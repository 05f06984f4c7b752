/**
 * The targets, each a ratio or a count within one run, judged from the rows and
 * metrics of the scenarios that ran. A target whose inputs were not measured in this
 * run is SKIP, with the reason.
 */

function find (results, scenario, system, key) {
  return results[scenario]?.rows?.find(r => r.system === system && r.key === key)
}

function need (...pairs) {
  for (const [label, value] of pairs) {
    if (value === undefined) return `not measured: ${label}`
    if (value.status !== 'ok') return `${label}: ${value.reason ?? value.status}`
  }
}

const fmt = v => (typeof v === 'number' ? Number(v.toPrecision(3)) : v)

/** A ratio of one field of two points; with `noFailures`, a failed request in either fails the target too. */
const ratioTarget = (id, title, threshold, compare, a, b, field, labels, { noFailures = false } = {}) => results => {
  const x = find(results, ...a)
  const y = find(results, ...b)
  const missing = need([labels[0], x], [labels[1], y])
  if (missing) return { id, title, status: 'SKIP', detail: missing }
  const value = x[field] / y[field]
  const failed = noFailures ? (x.failed ?? 0) + (y.failed ?? 0) : 0
  return {
    id,
    title,
    status: compare(value, threshold) && failed === 0 ? 'PASS' : 'FAIL',
    value: fmt(value),
    detail: `${labels[0]} ${x[field]} / ${labels[1]} ${y[field]} = ${fmt(value)}${noFailures ? `, failed ${failed}` : ''}`
  }
}

const rowTarget = (id, title, scenario, key, check) => results => {
  const r = find(results, scenario, 'nsz', key)
  const missing = need([`${scenario} ${key}`, r])
  if (missing) return { id, title, status: 'SKIP', detail: missing }
  const { pass, value, detail } = check(r, results[scenario].metrics ?? {})
  return { id, title, status: pass ? 'PASS' : 'FAIL', value: fmt(value), detail }
}

export const TARGETS = [
  ratioTarget('1a', 'uppercase: throughput at 16 clients >= 0.45 x the direct echo', 0.45, (v, t) => v >= t,
    ['uppercase', 'nsz', 'c=16'], ['uppercase', 'echo', 'c=16'], 'throughput', ['nsz c=16 /s', 'echo c=16 /s']),
  ratioTarget('1b', 'uppercase: p50 at 1 client <= 2 x the direct echo', 2, (v, t) => v <= t,
    ['uppercase', 'nsz', 'c=1'], ['uppercase', 'echo', 'c=1'], 'p50', ['nsz c=1 p50 ms', 'echo c=1 p50 ms']),
  ratioTarget('2', 'pipelined: Client with 256 in flight >= 2 x uppercase at 16 clients', 2, (v, t) => v >= t,
    ['pipelined', 'nsz', 'inflight=256'], ['uppercase', 'nsz', 'c=16'], 'throughput', ['pipelined /s', 'uppercase c=16 /s']),
  rowTarget('3', 'async10ms: efficiency (achieved / 400 per s) >= 0.97', 'async10ms', 'c=100', r => ({
    pass: r.efficiency >= 0.97 && !r.failed, value: r.efficiency, detail: `${r.throughput}/s of 400/s = ${r.efficiency}, failed ${r.failed}`
  })),
  ratioTarget('4', 'cpu5ms: 2 workers >= 1.8 x one', 1.8, (v, t) => v >= t,
    ['cpu5ms', 'nsz', 'w=2'], ['cpu5ms', 'nsz', 'w=1'], 'throughput', ['cpu5ms w=2 /s', 'cpu5ms w=1 /s']),
  results => {
    const r = results.idle?.rows?.find(x => x.system === 'nsz')
    const id = '5'
    const title = 'idle: broker + 4 workers use < 0.05 CPU s over 10 s'
    const missing = need(['idle', r])
    if (missing) return { id, title, status: 'SKIP', detail: missing }
    return { id, title, status: r.cpuSeconds < 0.05 ? 'PASS' : 'FAIL', value: r.cpuSeconds, detail: `${r.cpuSeconds} CPU s over ${r.key}` }
  },
  results => {
    const r = results.memory?.rows?.find(x => x.system === 'nsz')
    const id = '6'
    const title = 'memory: broker RSS after all jobs within 10 % of after the first 1000'
    const missing = need(['memory', r])
    if (missing) return { id, title, status: 'SKIP', detail: missing }
    const pass = Math.abs(r.brokerGrowth - 1) <= 0.1 && !r.failed
    return { id, title, status: pass ? 'PASS' : 'FAIL', value: r.brokerGrowth, detail: `${r.brokerAfterAllMiB} MiB / ${r.brokerAfterFirstMiB} MiB = ${r.brokerGrowth}, failed ${r.failed}` }
  },
  rowTarget('7', 'fairness: no short job waits while a worker is idle', 'fairness', 'c=6', (r, m) => ({
    pass: r.violations === 0 && !r.failed,
    value: r.violations,
    detail: `${r.violations} of ${m.shortJobs} short jobs waited > ${m.toleranceMs} ms while a worker idled >= ${m.toleranceMs} ms; short p99 wait ${m.shortWaitP99} ms; failed ${r.failed}`
  })),
  rowTarget('7b', 'fairness with 4 slots per worker: no short job waits while a worker has a free slot', 'fairness', 'c=24 slots=4', (r, m) => ({
    pass: r.violations === 0 && !r.failed,
    value: r.violations,
    detail: `${r.violations} of ${m.slots4?.shortJobs} short jobs waited > ${m.slots4?.toleranceMs} ms while a worker had a free slot; short p99 wait ${m.slots4?.shortWaitP99} ms; failed ${r.failed}`
  })),
  ratioTarget('10', 'concurrency: 2 workers of 16 slots >= 8 x 2 workers of one, 10 ms jobs, no failure', 8, (v, t) => v >= t,
    ['concurrency', 'nsz', 'w=2 slots=16 c=64'], ['concurrency', 'nsz', 'w=2 slots=1 c=64'], 'throughput', ['slots=16 /s', 'slots=1 /s'], { noFailures: true }),
  ratioTarget('11a', 'concurrency: 4 workers of 16 slots >= 2 x BullMQ with concurrency 16, 10 ms jobs', 2, (v, t) => v >= t,
    ['concurrency', 'nsz', 'w=4 slots=16 c=128'], ['concurrency', 'bullmq', 'w=4 slots=16 c=128'], 'throughput', ['nsz /s', 'bullmq /s']),
  ratioTarget('11b', 'concurrency: p50 below BullMQ\'s with concurrency 16', 1, (v, t) => v < t,
    ['concurrency', 'nsz', 'w=4 slots=16 c=128'], ['concurrency', 'bullmq', 'w=4 slots=16 c=128'], 'p50', ['nsz p50 ms', 'bullmq p50 ms']),
  rowTarget('8', 'startup: SIGHUP roll under load loses no request', 'startup', 'hup roll', (r, m) => ({
    pass: r.failed === 0 && r.rolled,
    value: r.failed,
    detail: `failed ${r.failed} of ${r.ok + r.failed}; new workers serving ${m.roll?.newWorkersServing}, old left ${m.roll?.oldWorkersLeft}`
  })),
  ratioTarget('9a', 'bullmq: 16 waiting callers slower than uppercase at 16 clients', 1, (v, t) => v < t,
    ['bullmq', 'bullmq', 'c=16'], ['uppercase', 'nsz', 'c=16'], 'throughput', ['bullmq c=16 /s', 'nsz c=16 /s']),
  ratioTarget('9b', 'bullmq: bulk no-op throughput below the pipelined Client', 1, (v, t) => v < t,
    ['bullmq', 'bullmq', 'bulk'], ['pipelined', 'nsz', 'inflight=256'], 'throughput', ['bullmq bulk /s', 'nsz pipelined /s']),
  ratioTarget('12a', 'cbroker: CPU per job of broker + workers <= 1.1 x the C broker + C workers, 16 clients', 1.1, (v, t) => v <= t,
    ['cbroker', 'nsz', 'c=16'], ['cbroker', 'cbroker', 'c=16'], 'cpuTotalUs', ['nsz c=16 us/job', 'C c=16 us/job']),
  ratioTarget('12b', 'cbroker: throughput at 16 clients >= 0.9 x the C broker', 0.9, (v, t) => v >= t,
    ['cbroker', 'nsz', 'c=16'], ['cbroker', 'cbroker', 'c=16'], 'throughput', ['nsz c=16 /s', 'C c=16 /s']),
  ratioTarget('12c', 'cbroker: p50 at 1 client <= 1.3 x the C broker', 1.3, (v, t) => v <= t,
    ['cbroker', 'nsz', 'c=1'], ['cbroker', 'cbroker', 'c=1'], 'p50', ['nsz c=1 p50 ms', 'C c=1 p50 ms'])
]

/** Judges every target against the results of one run. */
export function judge (results) {
  return TARGETS.map(target => target(results))
}
