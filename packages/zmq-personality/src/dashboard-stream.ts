/**
 * `GET /api/events`: the dashboard's live stream (server-sent events). Each open page
 * gets the whole snapshot at once, then again on each slow tick and soon after each
 * change (coalesced). The tick runs only while a page is connected: with none, the
 * stream has no timer at all. The number of pages is bounded, and a page that does
 * not read its stream is dropped rather than buffered for.
 * @internal
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Pages connected at once; one more is answered 503. */
export const MAX_STREAM_CLIENTS = 16
/** The slow tick: a snapshot this often while a page is connected. */
export const STREAM_TICK_MS = 1000
/** A change is pushed this long after it happened, so that a burst gives one push. */
const CHANGE_DELAY_MS = 100
/** Ticks a page may leave its stream unread (its socket's buffer full) before it is dropped. */
const MAX_STALLED_TICKS = 10

interface Client {
  readonly res: ServerResponse
  /** Ticks since the socket's buffer filled; 0 while it drains. */
  stalled: number
}

/** The live stream of one dashboard. */
export class DashboardStream {
  readonly #clients = new Set<Client>()
  readonly #snapshot: () => unknown
  #tick: NodeJS.Timeout | undefined
  #soon: NodeJS.Timeout | undefined

  /** @param snapshot - what each push sends, serialised as JSON */
  constructor (snapshot: () => unknown) {
    this.#snapshot = snapshot
  }

  /** Pages connected now. */
  get clients (): number {
    return this.#clients.size
  }

  /** Opens a stream for `req`, or answers 503 when {@link MAX_STREAM_CLIENTS} are open. */
  open (req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= MAX_STREAM_CLIENTS) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' }).end(JSON.stringify({ error: `${MAX_STREAM_CLIENTS} pages are connected already` }))
      return
    }
    const client: Client = { res, stalled: 0 }
    this.#clients.add(client)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
    // The browser reconnects this long after a dropped stream.
    res.write('retry: 2000\n\n')
    res.on('drain', () => { client.stalled = 0 })
    req.socket.setNoDelay(true)
    res.on('close', () => {
      this.#clients.delete(client)
      if (this.#clients.size === 0) this.#stop()
    })
    this.#send([client], this.#message())
    this.#tick ??= setInterval(this.#onTick, STREAM_TICK_MS)
  }

  /** Something changed: every page gets a snapshot shortly, one for a burst of changes. */
  changed (): void {
    if (this.#clients.size === 0 || this.#soon !== undefined) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      this.#push()
    }, CHANGE_DELAY_MS)
  }

  /** Ends every stream and stops the timers. */
  close (): void {
    for (const c of this.#clients) c.res.end()
    this.#clients.clear()
    this.#stop()
  }

  readonly #onTick = (): void => {
    this.#push()
  }

  #push (): void {
    if (this.#clients.size === 0) return
    this.#send([...this.#clients], this.#message())
  }

  #message (): string {
    return `event: status\ndata: ${JSON.stringify(this.#snapshot())}\n\n`
  }

  #send (clients: readonly Client[], message: string): void {
    for (const c of clients) {
      if (c.stalled > 0) {
        // Its socket still holds the last push: skip this one, and give up on a page that reads nothing.
        if (++c.stalled > MAX_STALLED_TICKS) c.res.destroy()
        continue
      }
      if (!c.res.write(message)) c.stalled = 1
    }
  }

  #stop (): void {
    clearInterval(this.#tick)
    clearTimeout(this.#soon)
    this.#tick = undefined
    this.#soon = undefined
  }
}
