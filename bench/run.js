#!/usr/bin/env node
/**
 * The benchmark harness: `node bench/run.js [scenario...]` (or `pnpm bench [scenario...]`
 * from the repository root) runs the named scenarios, or all of them, against real
 * servers on 127.0.0.1, with each load generator in a process of its own. Progress
 * goes to stderr; the results go to bench/results/latest.{json,md,svg}.
 * docs/performance.md describes every scenario, target and setting.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { relative, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { installCleanup, killAll } from './lib/procs.js'
import { benchDir, nszPath, rootDir, serverMissing } from './lib/servers.js'
import { machineInfo } from './lib/system.js'
import { judge } from './lib/targets.js'
import { markdown, svg } from './lib/report.js'
import { round } from './lib/stats.js'
import uppercase from './scenarios/uppercase.js'
import pipelined from './scenarios/pipelined.js'
import async10ms from './scenarios/async10ms.js'
import cpu5ms from './scenarios/cpu5ms.js'
import idle from './scenarios/idle.js'
import memory from './scenarios/memory.js'
import fairness from './scenarios/fairness.js'
import startup from './scenarios/startup.js'
import bullmq from './scenarios/bullmq.js'
import concurrency from './scenarios/concurrency.js'
import cbroker from './scenarios/cbroker.js'

const SCENARIOS = [uppercase, pipelined, async10ms, concurrency, cpu5ms, idle, memory, fairness, startup, bullmq, cbroker]

function number (name, fallback, { min = 0, integer = false } = {}) {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(text)}`)
  }
  return value
}

function settings () {
  return {
    seconds: number('BENCH_SECONDS', 3, { min: 0.5 }),
    warmup: number('BENCH_WARMUP', 0.5),
    idleSeconds: number('BENCH_IDLE_SECONDS', 10, { min: 1 }),
    idleSettleSeconds: number('BENCH_IDLE_SETTLE', 30),
    memoryJobs: number('BENCH_MEMORY_JOBS', 100_000, { min: 2000, integer: true }),
    rollSeconds: number('BENCH_ROLL_SECONDS', 6, { min: 2 }),
    bullmqJobs: number('BENCH_BULLMQ_JOBS', 20_000, { min: 1000, integer: true }),
    timeoutMs: number('BENCH_TIMEOUT_MS', 10_000, { min: 100, integer: true }),
    fairnessToleranceMs: number('BENCH_FAIRNESS_TOLERANCE_MS', 10, { min: 1 }),
    cbrokerRounds: number('BENCH_CBROKER_ROUNDS', 3, { min: 1, integer: true })
  }
}

function usage () {
  return [
    'usage: pnpm bench [scenario...]      (or: node bench/run.js [scenario...])',
    '',
    'scenarios (all of them when none is named):',
    ...SCENARIOS.map(s => `  ${s.name.padEnd(10)} ${s.description}`),
    '',
    'settings (environment): BENCH_SECONDS=3 BENCH_WARMUP=0.5 BENCH_IDLE_SECONDS=10 BENCH_IDLE_SETTLE=30',
    '  BENCH_MEMORY_JOBS=100000 BENCH_ROLL_SECONDS=6 BENCH_BULLMQ_JOBS=20000 BENCH_TIMEOUT_MS=10000',
    '  BENCH_FAIRNESS_TOLERANCE_MS=10 BENCH_CBROKER_ROUNDS=3',
    '  BENCH_NSZ=<path to nsz.js> BENCH_NODE_ARGS=<node flags for nsz> BENCH_INSTALL_REDIS=0 BENCH_INSTALL_ZMQ=0',
    '  BENCH_STRICT=1 BENCH_OUT=<results dir>'
  ].join('\n')
}

function versions () {
  const require = createRequire(resolve(benchDir, 'package.json'))
  const version = name => {
    try {
      return require(`${name}/package.json`).version
    } catch {
      return undefined
    }
  }
  return { zeromq: version('zeromq'), bullmq: version('bullmq') }
}

async function main (argv) {
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('--list')) {
    process.stdout.write(usage() + '\n')
    return 0
  }
  const unknown = argv.filter(name => !SCENARIOS.some(s => s.name === name))
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown scenario ${unknown.join(', ')}\n\n${usage()}\n`)
    return 2
  }
  const selected = argv.length > 0 ? SCENARIOS.filter(s => argv.includes(s.name)) : SCENARIOS
  const config = settings()
  const log = message => process.stderr.write(`${message}\n`)
  installCleanup()

  const missing = serverMissing()
  log(missing
    ? `bench: ${relative(rootDir, nszPath)} does not exist (${missing}): the job server's points are skipped`
    : `bench: job server ${relative(rootDir, nszPath)}`)
  const scenarios = {}
  let errors = 0
  const t0 = performance.now()
  for (const scenario of selected) {
    log(`\n[${scenario.name}] ${scenario.description}`)
    const ctx = {
      config,
      log,
      point: r => log(r.status === 'ok'
        ? `  ${r.system.padEnd(6)} ${r.key.padEnd(13)} ${Object.entries(r)
          .filter(([k, v]) => !['scenario', 'system', 'key', 'status', 'errors'].includes(k) && v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')}`
        : `  ${r.system.padEnd(6)} ${r.key.padEnd(13)} skipped: ${r.reason}`)
    }
    const started = performance.now()
    try {
      scenarios[scenario.name] = await scenario.run(ctx)
    } catch (error) {
      errors++
      log(`  failed: ${error.stack ?? error}`)
      scenarios[scenario.name] = { rows: [], error: String(error.message ?? error) }
    }
    scenarios[scenario.name].seconds = round((performance.now() - started) / 1000)
  }

  const run = {
    machine: { ...machineInfo(), ...versions() },
    config,
    server: missing ? `not measured: ${missing}` : relative(rootDir, nszPath),
    scenarios,
    targets: judge(scenarios),
    seconds: round((performance.now() - t0) / 1000)
  }
  const out = resolve(process.env.BENCH_OUT ?? resolve(benchDir, 'results'))
  mkdirSync(out, { recursive: true })
  writeFileSync(resolve(out, 'latest.json'), JSON.stringify(run, null, 2) + '\n')
  writeFileSync(resolve(out, 'latest.md'), markdown(run))
  writeFileSync(resolve(out, 'latest.svg'), svg(run))

  log('\ntargets:')
  for (const t of run.targets) log(`  ${t.status.padEnd(4)} ${t.id}. ${t.title}: ${t.detail}`)
  log(`\nbench: ${run.seconds} s; results in ${relative(process.cwd(), out) || '.'}/latest.{json,md,svg}`)
  const failed = run.targets.some(t => t.status === 'FAIL')
  return errors > 0 || (failed && process.env.BENCH_STRICT === '1') ? 1 : 0
}

main(process.argv.slice(2)).then(
  code => {
    killAll()
    process.exitCode = code
  },
  error => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`)
    killAll()
    process.exitCode = 1
  }
)
