// Reads the report of `pnpm mutation` and fails when one module scores under the
// threshold: Stryker's own `break` applies to all modules together.
import { readFileSync } from 'node:fs'

const THRESHOLD = 85
const report = JSON.parse(readFileSync(new URL('../reports/mutation/mutation.json', import.meta.url), 'utf8'))
const DETECTED = new Set(['Killed', 'Timeout'])
const UNSCORED = new Set(['CompileError', 'RuntimeError', 'Ignored'])

let low = 0
for (const [file, { mutants }] of Object.entries(report.files)) {
  const scored = mutants.filter((m) => !UNSCORED.has(m.status))
  const detected = scored.filter((m) => DETECTED.has(m.status)).length
  const score = scored.length === 0 ? 100 : (100 * detected) / scored.length
  if (score < THRESHOLD) low++
  console.log(`${score < THRESHOLD ? 'LOW ' : '    '}${score.toFixed(1).padStart(5)} %  ${String(detected).padStart(4)} of ${String(scored.length).padEnd(4)} ${file}`)
}
if (low > 0) {
  console.error(`${low} module(s) under ${THRESHOLD} %`)
  process.exitCode = 1
}
