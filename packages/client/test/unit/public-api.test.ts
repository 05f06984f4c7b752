import * as api from '@net-server/client'
import { describePublicApi } from '../../../test-support/src/public-api.js'

describePublicApi('@net-server/client', {
  index: new URL('../../src/index.ts', import.meta.url),
  doc: new URL('../../../../docs/client.md', import.meta.url),
  runtime: api
})
