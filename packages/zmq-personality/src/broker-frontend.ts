/**
 * The broker's frontend: what it does with each client request (decode, MMI, size and
 * service checks, admission through the {@link Dispatcher}), and every reply it sends
 * to a client, through the {@link ClientOutbox} and its byte budget per client.
 * @internal
 */
import type { EventEmitter } from 'eventemitter3'
import type { Router } from 'zeromq'
import {
  MMI_PREFIX, MMI_SERVICE, MmiStatus, REQ_ENVELOPE, Status,
  decodeClientRequest, encodeClientReplyTo, isDecodeError, replyEnvelope, type ReplyEnvelope
} from '@net-server/client'
import type { Dispatcher } from './broker-dispatch.js'
import type { BrokerTables, Job } from './broker-tables.js'
import { ClientOutbox } from './client-outbox.js'
import type { BrokerEvents } from './events.js'
import type { JobCounts } from './job-counts.js'
import type { LossCounters } from './loss-counters.js'
import type { ResolvedBrokerOptions } from './options.js'
import { SendQueue } from './send-queue.js'
import type { BrokerState, RefusalReason } from './types.js'

const MMI_NOT_IMPLEMENTED = [Buffer.from(MmiStatus.NOT_IMPLEMENTED)]

/** The status each refusal answers with. */
const REFUSAL_STATUS: Readonly<Record<RefusalReason, number>> = {
  malformed: Status.MALFORMED,
  tooLarge: Status.TOO_LARGE,
  noService: Status.NO_SERVICE,
  queueFull: Status.UNAVAILABLE,
  clientLimit: Status.UNAVAILABLE,
  queueTimeout: Status.UNAVAILABLE,
  clientGone: Status.UNAVAILABLE,
  stopping: Status.UNAVAILABLE
}

/** Refusals whose reply says why; the others keep the bare status text, as they always had. */
const EXPLAINED: ReadonlySet<RefusalReason> = new Set(['queueFull', 'clientLimit', 'queueTimeout'])

/** What the frontend needs of its broker. */
export interface FrontendHost {
  readonly events: EventEmitter<BrokerEvents>
  readonly tables: BrokerTables
  readonly dispatcher: Dispatcher
  readonly losses: LossCounters
  /** How accepted jobs ended: the ones this side answers count there too. */
  readonly jobs: JobCounts
  /** Where the broker is: only a `'bound'` broker takes requests. */
  state (): BrokerState
  /** True once the startup grace is over: a service no worker offered is then unknown. */
  graceOver (): boolean
}

/** Takes client requests and sends every reply to clients. */
export class Frontend {
  /** Replies the broker answered by itself, per status. */
  readonly errors: Record<number, number> = {}
  /** Requests accepted for a service. */
  accepted = 0
  /** Requests that did not decode. */
  protocolErrors = 0
  /** Messages read, whatever became of them: what {@link Frontend.quiet} watches. */
  #read = 0
  readonly #o: ResolvedBrokerOptions
  readonly #host: FrontendHost
  readonly #queue: SendQueue
  readonly #outbox: ClientOutbox

  constructor (socket: Router, options: ResolvedBrokerOptions, host: FrontendHost) {
    this.#o = options
    this.#host = host
    this.#queue = new SendQueue(socket, (msg, err) => { this.#outbox.sendFailed(msg, err) })
    this.#outbox = new ClientOutbox(this.#queue, options.maxClientBuffer, {
      undelivered: (reason, client, detail) => { host.losses.undelivered(reason, client, detail) },
      clientGone: this.#onClientGone
    })
  }

  /** Bytes of replies held for clients that do not read. */
  get heldBytes (): number {
    return this.#outbox.heldBytes
  }

  /** Clients replies are held for. */
  get slowClients (): number {
    return this.#outbox.slowClients
  }

  /** One client request, as the frontend's receive loop hands it (frame 0 the routing id). */
  readonly onMessage = (msg: Buffer[]): void => {
    this.#read++
    const client = msg.shift()!
    const o = this.#o
    const { tables } = this.#host
    const req = decodeClientRequest(msg, o.defaultService)
    if (isDecodeError(req)) {
      this.protocolErrors++
      this.#host.events.emit('protocolError', 'frontend', client.toString('hex'), req.error)
      this.refuse('malformed', client, REQ_ENVELOPE, req.error)
      return
    }
    const envelope = replyEnvelope(req)
    if (req.service.startsWith(MMI_PREFIX)) {
      this.answer(client, envelope, Status.OK, req.service === MMI_SERVICE ? tables.mmiService(req.body) : MMI_NOT_IMPLEMENTED)
      return
    }
    const state = this.#host.state()
    if (state !== 'bound') {
      this.refuse('stopping', client, envelope, `the broker is ${state}`)
      return
    }
    let size = 0
    for (let i = 0; i < req.body.length; i++) size += req.body[i]!.length
    if (size > o.maxMessageSize) {
      this.refuse('tooLarge', client, envelope, `request body of ${size} bytes, over maxMessageSize (${o.maxMessageSize})`)
      return
    }
    // During the startup grace, a service no worker has offered yet may still come.
    const service = tables.services.get(req.service) ??
      (this.#host.graceOver() || tables.services.size >= o.maxServices ? undefined : tables.addService(req.service, false))
    if (service === undefined) {
      this.refuse('noService', client, envelope, `no worker offers service ${req.service}`)
      return
    }
    const refusal = this.#host.dispatcher.accept(tables.newJob(client, envelope, service, req.body))
    if (refusal === undefined) {
      this.accepted++
      return
    }
    tables.forgetUnused(service)
    this.refuse(refusal, client, envelope, refusal === 'queueFull'
      ? `the queue is full (maxQueue: ${o.maxQueue} requests waiting)`
      : `this client has ${o.maxQueuePerClient} requests waiting already (maxQueuePerClient)`)
  }

  /** Sends a reply to a client in its dialect; a status the broker picks is counted. */
  answer (client: Buffer, envelope: ReplyEnvelope, status: number, body: readonly Buffer[] = []): void {
    if (status !== Status.OK) this.errors[status] = (this.errors[status] ?? 0) + 1
    this.#outbox.send(encodeClientReplyTo(client, envelope, status, body))
  }

  /** Forwards a worker's reply to the job's client. */
  forward (job: Job, status: number, body: readonly Buffer[]): void {
    this.#outbox.send(encodeClientReplyTo(job.client, job.envelope, status, body))
  }

  /** Answers a request the broker will not serve, with the status of `reason`; counted and reported as a loss. */
  refuse (reason: RefusalReason, client: Buffer, envelope: ReplyEnvelope, why: string): void {
    this.#host.losses.refused(reason, client, why)
    const status = REFUSAL_STATUS[reason]
    this.answer(client, envelope, status, reason === 'malformed' || EXPLAINED.has(reason) ? [Buffer.from(why)] : [])
  }

  /**
   * Answers the waiting requests and empties their queues: those of every service when
   * the broker stops (`stopping`, 503), or those of the services no worker offered once
   * the startup grace is over (`noService`, 404; the services are forgotten).
   */
  refuseQueued (reason: 'stopping' | 'noService'): void {
    const { tables } = this.#host
    for (const service of [...tables.services.values()]) {
      if (reason === 'noService') {
        if (service.known) continue
        tables.services.delete(service.name)
      }
      const why = reason === 'noService' ? `no worker offered service ${service.name} in the startup grace` : 'the broker stops'
      for (const job of tables.drainQueue(service)) {
        this.#host.jobs.ended(job, REFUSAL_STATUS[reason])
        this.refuse(reason, job.client, job.envelope, why)
      }
    }
  }

  /**
   * Resolves once no request has come for `quietMs`, or after `limitMs` at most: the
   * requests that clients sent before they could learn that the broker stops are still
   * on their way, and each gets its reply (503 once the broker has left `'bound'`)
   * rather than being dropped with the socket.
   */
  quiet (quietMs: number, limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs
    return new Promise((resolve) => {
      let seen = this.#read
      const check = (): void => {
        const left = deadline - Date.now()
        if (this.#read === seen || left <= 0) {
          resolve()
          return
        }
        seen = this.#read
        setTimeout(check, Math.min(quietMs, left))
      }
      setTimeout(check, Math.min(quietMs, limitMs))
    })
  }

  /** Drops the replies held for slow clients, then resolves once the rest are handed to libzmq. */
  close (): Promise<void> {
    this.#outbox.close()
    return this.#queue.flushed()
  }

  /** A send to a client failed because it has gone: the requests it still has waiting are dropped. */
  readonly #onClientGone = (client: Buffer, clientKey: string, code: string): void => {
    const { tables, losses } = this.#host
    this.#host.events.emit('clientGone', client.toString('hex'), code)
    for (const job of tables.queuedOf(clientKey)) {
      tables.removeQueued(job)
      losses.refused('clientGone', client, `a request for service ${job.service.name} left the queue: its client has gone`)
    }
  }
}
