// Scenario `uppercase` (and `memory`, `idle`): the payload in upper case.
import { withProbe } from '../lib/probe-job.js'

export default withProbe(payload => payload.toString('latin1').toUpperCase())
