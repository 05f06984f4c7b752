/**
 * A job as a worker agent holds it: what the broker sent, and its one reply. Here too
 * the few rules that take no state of the agent: running a handler, reading the ACK.
 * @internal
 */
import { ACK_CREDIT, Status, type Body, type ExtensionParams } from '@net-server/client'
import { jobRepliedError } from './errors.js'

/** A request that the broker sent to this worker. */
export interface Job {
  /** The broker's job id, in hex; it identifies the job in the broker's events. */
  readonly id: string
  /** The service the request is for (the READY service when the broker does not say). */
  readonly service: string
  /** The request body, one Buffer per frame. */
  readonly body: Buffer[]
  /** True once {@link Job.reply} has been called. */
  readonly replied: boolean
  /**
   * Sends the reply. `status` reaches clients of the project's dialect (and becomes an
   * `ERROR <status> ...` frame for the others). Until the broker has acknowledged the
   * extension (and always with `extension: false`) the reply is plain RFC 7, and a
   * failure travels as that one `ERROR <status> <message>` body frame. Returns false when the reply was dropped because the connection it came
   * on has been lost. Throws `NSZ_ERR_JOB_REPLIED` on a second call, and a RangeError
   * for 502 and 503: from a worker those tell the broker that the worker leaves.
   */
  reply (body?: Body, status?: number): boolean
}

/** What a `WorkerAgent.serve` handler may return: the reply body. */
export type JobResult = Body | null | undefined

/** A job handler for `WorkerAgent.serve`. */
export type JobHandler = (job: Job) => JobResult | Promise<JobResult>

/** An empty reply body. */
export const NO_BODY: Buffer[] = []

/** The most slots a broker's ACK grants (its `credit` parameter), 0 when it takes no CREDIT. */
export function creditOf (params: ExtensionParams): number {
  const value = params[ACK_CREDIT]
  return value !== undefined && /^[0-9]{1,4}$/.test(value) ? Number(value) : 0
}

/** Runs one job through `handler` and replies: its result, or 500 with the message of what it threw. */
export async function runJob (job: Job, handler: JobHandler): Promise<void> {
  let result: JobResult
  try {
    result = await handler(job)
  } catch (err) {
    if (!job.replied) job.reply(err instanceof Error ? err.message : String(err), Status.APP_ERROR)
    return
  }
  if (!job.replied) job.reply(result ?? NO_BODY)
}

/** A job the agent received: {@link Job.reply} sends its REPLY through the agent. */
export class AgentJob implements Job {
  readonly service: string
  readonly body: Buffer[]
  /** The connection it came on. */
  readonly generation: number
  readonly idFrame: Buffer
  #replied = false
  #id: string | undefined
  readonly #send: (job: AgentJob, body: Body, status: number) => boolean

  constructor (idFrame: Buffer, service: string, body: Buffer[], generation: number, send: (job: AgentJob, body: Body, status: number) => boolean) {
    this.idFrame = idFrame
    this.service = service
    this.body = body
    this.generation = generation
    this.#send = send
  }

  /** The job id in hex, made when first read: most jobs never need it. */
  get id (): string {
    this.#id ??= this.idFrame.toString('hex')
    return this.#id
  }

  get replied (): boolean {
    return this.#replied
  }

  /** Takes the job's one reply away: the agent answered for it (abandoned); a later reply() throws. */
  markReplied (): void {
    this.#replied = true
  }

  reply (body: Body = NO_BODY, status: number = Status.OK): boolean {
    if (status === Status.WORKER_LOST || status === Status.UNAVAILABLE) {
      throw new RangeError(`a job cannot reply ${status}: from a worker the status means that the worker leaves; use 500 or another status`)
    }
    if (this.#replied) throw jobRepliedError(this.id)
    this.#replied = true
    return this.#send(this, body, status)
  }
}
