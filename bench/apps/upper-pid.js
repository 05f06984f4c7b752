// Scenario `startup` (the rolling restart): the payload in upper case, then the worker's
// pid, so that the load generator can tell old workers from new ones.
import { withProbe } from '../lib/probe-job.js'

export default withProbe(payload => `${payload.toString('latin1').toUpperCase()} ${process.pid}`)
