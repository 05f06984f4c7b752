// The app of the dashboard screenshot (bench/dashboard-screenshot.js): `work MS`
// answers after MS ms, `fail` throws (500), `hang` never answers (504 at the
// server's --job-timeout).
import { setTimeout as sleep } from 'node:timers/promises'

export default async function job (payload) {
  const [command, arg] = payload.toString().split(' ')
  if (command === 'fail') throw new Error('the demo job failed on purpose')
  if (command === 'hang') return await new Promise(() => {})
  await sleep(Number(arg ?? 5))
  return 'done'
}
