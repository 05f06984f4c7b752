import * as api from '@net-server/zmq'
import { describePublicApi } from '../../../test-support/src/public-api.js'

describePublicApi('@net-server/zmq', {
  index: new URL('../../src/index.ts', import.meta.url),
  doc: new URL('../../../../docs/zmq.md', import.meta.url),
  runtime: api
})
