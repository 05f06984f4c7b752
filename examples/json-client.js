/**
 * The client side of json-server.js, with the JSON helpers of @net-server/client:
 *
 *   node examples/json-client.js [ENDPOINT]      # default tcp://127.0.0.1:6660
 *
 * Prints one JSON line per call: a greeting, then the JSON error of a bad request.
 */
import { Client, ClientErrorCode, isClientError, jsonClient } from '@net-server/client'

const endpoint = process.argv[2] ?? 'tcp://127.0.0.1:6660'
const api = jsonClient(new Client({ endpoint, timeout: 5000, retries: 0 }))

try {
  // '' is the broker's default service: the one JsonServer's job serves.
  /** @type {{ greeting: string, worker: number }} */
  const reply = await api.request('', { name: 'Ada' })
  console.log(JSON.stringify(reply))

  // A job that throws: the promise rejects with status 500, the JSON body in `detail`.
  await api.request('', { name: 42 }).catch((err) => {
    if (!isClientError(err, ClientErrorCode.APP_ERROR)) throw err
    console.log(JSON.stringify({ status: err.status, body: JSON.parse(err.detail ?? 'null') }))
  })
} finally {
  api.client.close()
}
