import * as api from '@net-server/client'
import { describePublicApi } from '@net-server/test-support'

describePublicApi('@net-server/client', {
  index: new URL('../../src/index.ts', import.meta.url),
  doc: new URL('../../../../docs/client.md', import.meta.url),
  runtime: api
})
