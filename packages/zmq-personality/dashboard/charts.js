// The dashboard's three charts (uPlot): jobs per second by status, run time
// (p50, p99) and queue depth, redrawn from the history columns of each snapshot.
import UPlot from './vendor/uPlot.esm.js'

const STATUS_COLOURS = {
  200: '#2f9e44',
  400: '#f59f00',
  403: '#f08c00',
  404: '#e67700',
  413: '#d9480f',
  500: '#c92a2a',
  502: '#862e9c',
  503: '#5f3dc4',
  504: '#e64980'
}

function colourOf (status) {
  return STATUS_COLOURS[status] ?? (Number(status) >= 500 ? '#a61e4d' : '#868e96')
}

/** One uPlot chart in `el`, rebuilt when its series change. */
class Chart {
  constructor (el, yLabel) {
    this.el = el
    this.yLabel = yLabel
    this.plot = undefined
    this.keys = ''
    new ResizeObserver(() => { this.plot?.setSize(this.#size()) }).observe(el)
  }

  #size () {
    return { width: Math.max(200, this.el.clientWidth), height: 200 }
  }

  /** Draws `data` (x first) with `series` ([{ label, stroke }]). */
  draw (series, data) {
    const keys = series.map((s) => s.label).join(',')
    if (this.plot === undefined || keys !== this.keys) {
      this.plot?.destroy()
      this.keys = keys
      this.plot = new UPlot({
        ...this.#size(),
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { label: this.yLabel, size: 60 }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, spanGaps: false, points: { show: false } }))]
      }, data, this.el)
    } else {
      this.plot.setData(data)
    }
  }
}

/** The three charts of the page. */
export class Charts {
  constructor () {
    this.jobs = new Chart(document.getElementById('chart-jobs'), 'jobs/s')
    this.duration = new Chart(document.getElementById('chart-duration'), 'ms')
    this.queue = new Chart(document.getElementById('chart-queue'), 'requests')
  }

  /** Redraws every chart from a snapshot's `history`, from the second `since` on. */
  update (full, since) {
    const from = Math.max(0, full.t.findIndex((t) => t >= since))
    const cut = (column) => column.slice(from)
    const history = { t: cut(full.t), jobs: Object.fromEntries(Object.entries(full.jobs).map(([k, v]) => [k, cut(v)])), p50: cut(full.p50), p99: cut(full.p99), queue: cut(full.queue) }
    const statuses = Object.keys(history.jobs).sort()
    this.jobs.draw(statuses.map((s) => ({ label: s, stroke: colourOf(s) })), [history.t, ...statuses.map((s) => history.jobs[s])])
    this.duration.draw([{ label: 'p50', stroke: '#1971c2' }, { label: 'p99', stroke: '#e8590c' }], [history.t, history.p50, history.p99])
    this.queue.draw([{ label: 'queued', stroke: '#5f3dc4' }], [history.t, history.queue])
    // For scripts and tests: what the charts hold.
    const total = statuses.reduce((n, s) => n + history.jobs[s].reduce((a, b) => a + b, 0), 0)
    this.jobs.el.dataset.total = String(total)
    this.jobs.el.dataset.statuses = statuses.join(',')
  }
}
