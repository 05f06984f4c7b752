import * as api from '@net-server/zmq'
import { describePublicApi } from '@net-server/test-support'

describePublicApi('@net-server/zmq', {
  index: new URL('../../src/index.ts', import.meta.url),
  doc: new URL('../../../../docs/zmq.md', import.meta.url),
  runtime: api
})
