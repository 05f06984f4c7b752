/**
 * The outputs of a run: the markdown table and the hand-written SVG chart.
 */

const SYSTEMS = { nsz: 'nsz (job server)', echo: 'direct ROUTER echo', bullmq: 'BullMQ', cbroker: 'C broker (libzmq)' }
const COLORS = { nsz: '#2563eb', echo: '#9ca3af', bullmq: '#ea580c', cbroker: '#16a34a' }
const EXTRA_SKIP = new Set(['scenario', 'system', 'key', 'status', 'reason', 'throughput', 'p50', 'p99', 'ok', 'failed', 'errors', 'windowSeconds'])

const cell = v => (v === undefined || v === null ? '' : String(v))

/** The rows of one run as a markdown document. */
export function markdown (run) {
  const m = run.machine
  const lines = [
    `# Benchmark results, ${m.date}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}.`,
    `Settings: ${Object.entries(run.config).map(([k, v]) => `${k}=${v}`).join(', ')}.`,
    '',
    '## Targets',
    '',
    '| target | status | value | detail |',
    '| --- | --- | --- | --- |',
    ...run.targets.map(t => `| ${t.id}. ${t.title} | ${t.status} | ${cell(t.value)} | ${t.detail} |`),
    '',
    '## Measurements',
    '',
    'Throughput in requests (jobs) per second; latencies in ms, from send to reply, measured by the load generator.',
    '',
    '| scenario | point | system | throughput /s | p50 ms | p99 ms | failed | more |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |'
  ]
  for (const name of Object.keys(run.scenarios)) {
    const scenario = run.scenarios[name]
    if (scenario.error) {
      lines.push(`| ${name} | | | | | | | failed: ${scenario.error.split('\n')[0]} |`)
      continue
    }
    for (const r of scenario.rows) {
      if (r.status !== 'ok') {
        lines.push(`| ${name} | ${r.key} | ${SYSTEMS[r.system]} | not measured | | | | ${r.reason} |`)
        continue
      }
      const more = Object.entries(r).filter(([k, v]) => !EXTRA_SKIP.has(k) && v !== undefined)
        .map(([k, v]) => `${k} ${v}`).join(', ')
      lines.push(`| ${name} | ${r.key} | ${SYSTEMS[r.system]} | ${cell(r.throughput)} | ${cell(r.p50)} | ${cell(r.p99)} | ${cell(r.failed)} | ${more} |`)
    }
  }
  lines.push('')
  return lines.join('\n')
}

const escape = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Log-scale axis from the decade below `min` to the decade above `max`. */
function logAxis (values, x0, x1) {
  const finite = values.filter(v => v > 0)
  const lo = Math.floor(Math.log10(Math.min(...finite, 1)))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...finite, 10))))
  const x = v => x0 + (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo) * (x1 - x0)
  const ticks = []
  for (let p = lo; p <= hi; p++) ticks.push(10 ** p)
  return { x, ticks }
}

const tickLabel = v => (v >= 1000 ? `${v / 1000}k` : String(v))

/**
 * A chart of every throughput row: per scenario point, one bar per system (the job
 * server beside each baseline) for throughput, and a p50 bar with a p99 whisker for
 * latency, both on log scales. Points that were not measured say so.
 */
export function svg (run) {
  const groups = []
  for (const [name, scenario] of Object.entries(run.scenarios)) {
    const byKey = new Map()
    for (const r of scenario.rows ?? []) {
      if (r.status === 'ok' && r.throughput === undefined) continue
      if (r.status !== 'ok' && ['idle', 'memory'].includes(name)) continue
      if (r.status !== 'ok' && name === 'startup' && r.key === 'ready') continue
      if (!byKey.has(r.key)) byKey.set(r.key, [])
      byKey.get(r.key).push(r)
    }
    for (const [key, rows] of byKey) {
      rows.sort((a, b) => Object.keys(SYSTEMS).indexOf(a.system) - Object.keys(SYSTEMS).indexOf(b.system))
      groups.push({ label: `${name} ${key}`, rows })
    }
  }
  const bar = 14
  const gap = 12
  const top = 70
  const width = 1000
  const labelX = 175
  const tp = { x0: 185, x1: 560 }
  const lat = { x0: 610, x1: 980 }
  const measured = groups.flatMap(g => g.rows).filter(r => r.status === 'ok')
  const tpAxis = logAxis(measured.map(r => r.throughput), tp.x0, tp.x1)
  const latAxis = logAxis(measured.flatMap(r => [r.p50, r.p99]).filter(v => v !== undefined), lat.x0, lat.x1)
  let y = top
  const body = []
  for (const group of groups) {
    const h = group.rows.length * bar
    body.push(`<text x="${labelX}" y="${y + h / 2 + 4}" text-anchor="end" class="label">${escape(group.label)}</text>`)
    for (const r of group.rows) {
      const color = COLORS[r.system]
      if (r.status !== 'ok') {
        body.push(`<rect x="${tp.x0}" y="${y + 2}" width="4" height="${bar - 4}" fill="${color}" opacity="0.4"/>`)
        body.push(`<text x="${tp.x0 + 10}" y="${y + bar - 3}" class="skip">${escape(SYSTEMS[r.system])}: not measured (${escape(r.reason.length > 48 ? r.reason.slice(0, 47) + '…' : r.reason)})</text>`)
        y += bar
        continue
      }
      const w = Math.max(1, tpAxis.x(r.throughput) - tp.x0)
      body.push(`<rect x="${tp.x0}" y="${y + 2}" width="${w.toFixed(1)}" height="${bar - 4}" fill="${color}"><title>${escape(`${SYSTEMS[r.system]}: ${r.throughput}/s`)}</title></rect>`)
      body.push(`<text x="${(tp.x0 + w + 4).toFixed(1)}" y="${y + bar - 3}" class="value">${r.throughput}</text>`)
      if (r.p50 !== undefined) {
        const p50 = latAxis.x(r.p50)
        const p99 = latAxis.x(r.p99 ?? r.p50)
        body.push(`<rect x="${lat.x0}" y="${y + 2}" width="${Math.max(1, p50 - lat.x0).toFixed(1)}" height="${bar - 4}" fill="${color}"><title>${escape(`${SYSTEMS[r.system]}: p50 ${r.p50} ms, p99 ${r.p99} ms`)}</title></rect>`)
        body.push(`<line x1="${p50.toFixed(1)}" y1="${y + bar / 2}" x2="${p99.toFixed(1)}" y2="${y + bar / 2}" stroke="${color}" stroke-width="2"/>`)
        body.push(`<line x1="${p99.toFixed(1)}" y1="${y + 3}" x2="${p99.toFixed(1)}" y2="${y + bar - 3}" stroke="${color}" stroke-width="2"/>`)
        body.push(`<text x="${(p99 + 4).toFixed(1)}" y="${y + bar - 3}" class="value">${r.p50} / ${r.p99}</text>`)
      }
      y += bar
    }
    y += gap
  }
  const bottom = y
  const axes = []
  for (const [axis, range, unit] of [[tpAxis, tp, 'per s'], [latAxis, lat, 'ms']]) {
    for (const t of axis.ticks) {
      const x = axis.x(t).toFixed(1)
      axes.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${bottom}" class="grid"/>`)
      axes.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" class="tick">${tickLabel(t)}${t === axis.ticks.at(-1) ? ` ${unit}` : ''}</text>`)
    }
    axes.push(`<line x1="${range.x0}" y1="${top - 6}" x2="${range.x0}" y2="${bottom}" class="axis"/>`)
  }
  const legend = Object.entries(SYSTEMS).map(([k, label], i) =>
    `<rect x="${185 + i * 200}" y="${bottom + 28}" width="12" height="12" fill="${COLORS[k]}"/><text x="${201 + i * 200}" y="${bottom + 38}" class="label">${escape(label)}</text>`)
  const height = bottom + 56
  const m = run.machine
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<style>
.title { font-size: 15px; font-weight: bold }
.sub, .tick { font-size: 10px; fill: #4b5563 }
.label { font-size: 11px; fill: #111827 }
.value { font-size: 9px; fill: #374151 }
.skip { font-size: 10px; fill: #6b7280; font-style: italic }
.grid { stroke: #e5e7eb }
.axis { stroke: #6b7280 }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" class="title">net-server-zmq benchmarks</text>
<text x="10" y="36" class="sub">${escape(`${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.date}`)}</text>
<text x="${tp.x0}" y="56" class="label" font-weight="bold">throughput (log scale)</text>
<text x="${lat.x0}" y="56" class="label" font-weight="bold">latency p50 bar, p99 whisker, ms (log scale)</text>
${axes.join('\n')}
${body.join('\n')}
${legend.join('\n')}
</svg>
`
}
