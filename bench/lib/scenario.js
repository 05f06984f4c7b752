/**
 * The frame every scenario shares: a scenario declares its name, its description and
 * a `measure(stage)` function that holds only what is particular to it (what to start,
 * which load, what to report). The stage starts the job server or a baseline, waits
 * until it serves, runs load generators with the run's settings, records the points and
 * stops whatever it started, whatever happens.
 */
import { runLoad } from './load.js'
import { row, skipped } from './measure.js'
import { serverMissing, startEcho, startServer, waitForWorkers } from './servers.js'
import { round } from './stats.js'

/**
 * What `measure` works with: the run's context, the points recorded so far, and the
 * scoped starts of the job server, the echo and any other process.
 */
class Stage {
  #scenario
  #ctx
  #rows = []

  constructor (scenario, ctx) {
    this.#scenario = scenario
    this.#ctx = ctx
  }

  /** The run's settings (`ctx.config`: seconds, warm-up, time-out …). */
  get config () {
    return this.#ctx.config
  }

  /** The points recorded so far, in order. */
  get rows () {
    return this.#rows
  }

  /** Writes a progress line (stderr). */
  log (message) {
    this.#ctx.log(message)
  }

  /** Records a point that is already a row (prints it); returns it. */
  point (r) {
    this.#rows.push(r)
    this.#ctx.point(r)
    return r
  }

  /** Records a load generator's `result` as the point `key` of `system` (see `row`); returns the row. */
  record (system, key, result, extra = {}) {
    return this.point(row(this.#scenario, system, key, result, extra))
  }

  /** Records a point that was not measured, with the reason (not printed, as a skip is said once). */
  skip (system, key, reason, extra = {}) {
    this.#rows.push(skipped(this.#scenario, system, key, reason, extra))
  }

  /**
   * Runs `bench/load/<script>.js` with the run's `seconds`, `warmup` and `timeoutMs`
   * unless `config` sets them, and resolves with its result (see `runLoad`).
   */
  load (script, config, options) {
    const { seconds, warmup, timeoutMs } = this.#ctx.config
    return runLoad(script, { seconds, warmup, timeoutMs, ...config }, options)
  }

  /**
   * Starts something with `start()` (it resolves with an object that has `stop()`),
   * runs `fn` with it and stops it whatever happens; resolves with what `fn` returns.
   * When `start` rejects and `skip` lists points (`[system, key, extra]`), the reason is
   * logged, those points are recorded as skipped and this resolves with `undefined`.
   */
  async using (start, fn, skip) {
    let started
    try {
      started = await start()
    } catch (error) {
      if (!skip) throw error
      this.log(`  skipped: ${error.message}`)
      for (const [system, key, extra] of skip) this.skip(system, key, error.message, extra)
      return undefined
    }
    try {
      return await fn(started)
    } finally {
      await started.stop()
    }
  }

  /**
   * Starts `nsz serve` (see `startServer` for `options`), waits until all its workers
   * serve, runs `fn(server)` and stops the server whatever happens. `server` adds
   * `workerPids` and `workersMs` to what `startServer` gives. When the server is not
   * built, the points `skip` lists (`[key, extra]` of system `nsz`) are recorded as
   * skipped and this resolves with `undefined` without calling `fn`.
   */
  async withServer (options, fn, skip = []) {
    if (!this.serverBuilt(skip)) return undefined
    return this.using(() => this.#startServing(options), fn)
  }

  /**
   * True when the job server is built; otherwise records the points `skip` lists
   * (`[key, extra]` of system `nsz`) as skipped, with the reason, and returns false.
   */
  serverBuilt (skip = []) {
    const missing = serverMissing()
    for (const [key, extra] of missing ? skip : []) this.skip('nsz', key, missing, extra)
    return !missing
  }

  async #startServing (options) {
    this.log(`  starting nsz serve: ${options.workers} workers, app ${options.appName}`)
    const server = await startServer(options)
    try {
      const workers = await waitForWorkers(server.frontend, options.workers)
      this.log(`  ready in ${round(server.readyMs)} ms, ${options.workers} workers serving after ${round(server.readyMs + workers.ms)} ms`)
      return { ...server, workerPids: workers.pids, workersMs: workers.ms }
    } catch (error) {
      await server.stop()
      throw error
    }
  }

  /** Starts the direct ROUTER echo baseline, runs `fn(echo)` and stops it whatever happens. */
  withEcho (fn) {
    return this.using(startEcho, fn)
  }
}

/**
 * Declares a scenario for bench/run.js. `measure(stage)` records its points on the
 * stage; what it returns (unless `undefined`) becomes the scenario's `metrics`.
 *
 * @example
 * export default defineScenario({
 *   name: 'cpu5ms',
 *   description: 'a 5 ms CPU-bound job, 4 REQ clients',
 *   async measure (stage) {
 *     await stage.withServer({ appName: 'cpu5ms', workers: 1 }, async server => {
 *       stage.record('nsz', 'w=1', await stage.load('req-load', { endpoint: server.frontend, clients: 4, payload: 'x' }))
 *     }, [['w=1']])
 *   }
 * })
 */
export function defineScenario ({ name, description, measure }) {
  return {
    name,
    description,
    async run (ctx) {
      const stage = new Stage(name, ctx)
      const metrics = await measure(stage)
      return metrics === undefined ? { rows: stage.rows } : { rows: stage.rows, metrics }
    }
  }
}
