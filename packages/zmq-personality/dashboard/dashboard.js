// The dashboard page: one live stream of snapshots (GET api/events, server-sent
// events), each rendered whole into the tables and the charts. When the stream is
// refused (too many pages open), it reads api/status every few seconds instead.
import { Charts } from './charts.js'

const POLL_MS = 5000
const $ = (id) => document.getElementById(id)
const charts = new Charts()
let renders = 0

/** `75` -> `1m15s`, as nsz status writes ages. */
function age (seconds) {
  const s = Math.floor(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
  return `${Math.floor(s / 86400)}d${String(Math.floor(s / 3600) % 24).padStart(2, '0')}h`
}

function clock (ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false })
}

function ms (value) {
  return value === null ? 'none' : value >= 1000 && value % 100 === 0 ? `${value / 1000} s` : `${value} ms`
}

/** A row of cells (text only: nothing the server sends is read as HTML). */
function row (cells, attrs = {}) {
  const tr = document.createElement('tr')
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') tr.className = v
    else tr.dataset[k] = v
  }
  for (const cell of cells) {
    const td = document.createElement('td')
    if (cell instanceof Node) td.append(cell)
    else if (cell !== null && typeof cell === 'object') {
      td.textContent = cell.text
      if (cell.class) td.className = cell.class
      if (cell.title) td.title = cell.title
    } else td.textContent = String(cell)
    tr.append(td)
  }
  return tr
}

function badge (text, cls) {
  const span = document.createElement('span')
  span.className = `badge ${cls}`
  span.textContent = text
  return span
}

function fill (tbody, rows) {
  tbody.replaceChildren(...rows)
}

function renderFigures (snap) {
  const s = snap.status
  $('title').textContent = `${s.title} pid ${s.pid}`
  $('endpoints').textContent = `frontend ${s.frontend} backend ${s.backend}`
  $('uptime').textContent = age(s.uptime)
  $('generation').textContent = String(snap.generation)
  $('workers-count').textContent = s.remoteWorkers > 0 ? `${s.children.length} + ${s.remoteWorkers} remote` : String(s.children.length)
  $('slots').textContent = s.slots.inUse === undefined ? String(s.slots.total) : `${s.slots.inUse}/${s.slots.total}`
  $('queued').textContent = String(s.queued)
  $('in-flight').textContent = String(s.inFlight)
  $('served').textContent = String(s.served)
  $('rate').textContent = s.jobsPerSecond.toFixed(1)
}

/** Workers now (local children, then remote workers), then those that left within the last minute. */
function renderWorkers (snap) {
  const s = snap.status
  const now = snap.at
  const spawns = new Map(snap.workerEvents.filter((e) => e.event === 'spawn').map((e) => [e.pid, e]))
  const joins = new Map(snap.workerEvents.filter((e) => e.event === 'join').map((e) => [e.id, e]))
  const started = now - s.uptime * 1000
  const rows = s.children.map((c) => {
    const spawn = spawns.get(c.pid)
    // A child started after the pool's first ones: a replacement, an added one or a restart's.
    const late = spawn !== undefined && (spawn.replaces !== undefined || spawn.at - started > 5000 || snap.generation > 0)
    const note = spawn?.replaces !== undefined ? `new, replaces ${spawn.replaces}` : late ? 'new' : ''
    const slots = c.running === undefined ? String(c.slots) : `${c.running}/${c.slots}`
    return row([c.pid, badge('local', 'local'), { text: c.state, class: `state-${c.state}` }, slots, c.jobs, age(c.age), { text: note, class: 'note' }],
      { pid: String(c.pid), host: 'local', state: c.state, class: late ? 'new' : '' })
  })
  for (const w of s.remote) {
    const join = joins.get(w.id)
    const late = join !== undefined && join.at - started > 5000
    rows.push(row([w.pid ?? '-', badge(`remote ${w.host ?? '?'}`, 'remote'), { text: w.state, class: `state-${w.state}` }, `${w.running}/${w.slots}`, w.served, age(w.age), { text: late ? 'new' : '', class: 'note' }],
      { pid: String(w.pid ?? ''), host: 'remote', id: w.id, state: w.state, class: late ? 'new' : '' }))
  }
  const present = new Set(s.children.map((c) => c.pid))
  for (const e of snap.workerEvents) {
    if (e.event === 'exit' && !present.has(e.pid)) {
      rows.push(row([e.pid, badge('local', 'local'), 'gone', '-', '-', '-', { text: `exited (${e.reason}) ${age((now - e.at) / 1000)} ago`, class: 'note' }],
        { pid: String(e.pid), host: 'local', state: 'gone', class: 'gone' }))
    } else if (e.event === 'gone' && !s.remote.some((w) => w.id === e.id)) {
      rows.push(row([e.pid ?? '-', badge(`remote ${e.hostname ?? '?'}`, 'remote'), 'gone', '-', '-', '-', { text: `left (${e.reason}) ${age((now - e.at) / 1000)} ago`, class: 'note' }],
        { pid: String(e.pid ?? ''), host: 'remote', id: e.id, state: 'gone', class: 'gone' }))
    }
  }
  fill($('workers').tBodies[0], rows)
}

function renderServices (snap) {
  fill($('services').tBodies[0], snap.services.map((v) => row([v.name, v.workers, v.idle, v.queued, v.oldestWait === null ? '-' : `${v.oldestWait.toFixed(1)} s`], { service: v.name })))
}

const DURATIONS = new Set(['jobTimeout', 'queueTimeout', 'heartbeatInterval', 'gracefulTimeout', 'scaleUpWait'])

function renderOptions (snap) {
  const items = []
  for (const [name, value] of Object.entries(snap.options)) {
    const dt = document.createElement('dt')
    dt.textContent = name
    const dd = document.createElement('dd')
    dd.dataset.option = name
    dd.textContent = DURATIONS.has(name) && typeof value === 'number' ? (value === 0 ? '0 (none)' : ms(value)) : value === null ? '-' : String(value)
    items.push(dt, dd)
  }
  $('options').replaceChildren(...items)
}

/** Error rows shown; api/status has more. */
const ERRORS_SHOWN = 15

function renderErrors (snap) {
  const rows = snap.errors.slice(-ERRORS_SHOWN).reverse().map((e) => row([
    { text: clock(e.at), title: `${age((snap.at - e.at) / 1000)} ago` }, e.kind, e.status ?? '-', e.service ?? '-', { text: e.detail, class: 'detail' }, e.count
  ], { kind: e.kind, status: String(e.status ?? ''), class: e.status === undefined ? '' : `status-${e.status}` }))
  fill($('errors').tBodies[0], rows)
  $('no-errors').hidden = rows.length > 0
}

function renderActions (snap) {
  $('actions').hidden = !snap.actionsEnabled
  if (!snap.actionsEnabled) return
  fill($('action-log').tBodies[0], [...snap.actions].reverse().map((a) => row([clock(a.at), a.action, a.from, a.result], { action: a.action })))
}

function render (snap) {
  renderFigures(snap)
  renderWorkers(snap)
  renderServices(snap)
  renderOptions(snap)
  renderErrors(snap)
  renderActions(snap)
  // The charts start when the server did, if that is within their window.
  charts.update(snap.history, Math.floor((snap.at - snap.status.uptime * 1000) / 1000))
  document.body.dataset.renders = String(++renders)
}

function setConnection (state, text) {
  const el = $('connection')
  el.dataset.state = state
  el.textContent = text
}

async function poll () {
  try {
    const res = await fetch('api/status', { cache: 'no-store' })
    render(await res.json())
    setConnection('polling', `polling every ${POLL_MS / 1000} s`)
  } catch {
    setConnection('lost', 'server unreachable')
  }
  setTimeout(poll, POLL_MS)
}

function connect () {
  const stream = new EventSource('api/events')
  stream.addEventListener('status', (event) => {
    setConnection('live', 'live')
    render(JSON.parse(event.data))
  })
  stream.addEventListener('error', () => {
    // CLOSED: the server refused the stream (too many pages): read the status now and then instead.
    if (stream.readyState === EventSource.CLOSED) poll()
    else setConnection('lost', 'reconnecting')
  })
}

async function act (action) {
  const token = $('token').value
  sessionStorage.setItem('nsz-dashboard-token', token)
  const out = $('action-result')
  out.textContent = `${action}…`
  try {
    // Not Authorization: a proxy in front may use it for its own login.
    const res = await fetch(`api/actions/${action}`, { method: 'POST', headers: { 'x-dashboard-token': token } })
    const body = await res.json()
    out.textContent = res.ok ? `${action}: ${body.result}` : `${action} refused (${res.status}): ${body.error}`
  } catch (err) {
    out.textContent = `${action} failed: ${err.message}`
  }
}

$('token').value = sessionStorage.getItem('nsz-dashboard-token') ?? ''
for (const button of document.querySelectorAll('button[data-action]')) button.addEventListener('click', () => { act(button.dataset.action) })
connect()
