import * as api from '@net-server/prefork'
import { describePublicApi } from '@net-server/test-support'

describePublicApi('@net-server/prefork', {
  index: new URL('../../src/index.ts', import.meta.url),
  doc: new URL('../../../../docs/prefork.md', import.meta.url),
  runtime: api
})
