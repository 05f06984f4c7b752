/**
 * `uppercase`: 64-byte upper-case jobs, 4 workers, 1 / 16 / 64 concurrent REQ clients;
 * the direct ROUTER echo with the same payloads and client counts beside it.
 */
import { PAYLOAD_64 } from '../lib/measure.js'
import { defineScenario } from '../lib/scenario.js'

const CLIENTS = [1, 16, 64]
const WORKERS = 4

export default defineScenario({
  name: 'uppercase',
  description: '64-byte upper-case jobs, 4 workers, 1/16/64 REQ clients, beside a direct ROUTER echo',
  async measure (stage) {
    const load = (endpoint, clients, verify) => stage.load('req-load', { endpoint, clients, payload: PAYLOAD_64, verify })
    await stage.withEcho(async echo => {
      for (const clients of CLIENTS) stage.record('echo', `c=${clients}`, await load(echo.frontend, clients), { clients })
    })
    await stage.withServer({ appName: 'uppercase', workers: WORKERS }, async server => {
      for (const clients of CLIENTS) {
        stage.record('nsz', `c=${clients}`, await load(server.frontend, clients, 'upper'), { clients, workers: WORKERS })
      }
    }, CLIENTS.map(clients => [`c=${clients}`, { clients, workers: WORKERS }]))
  }
})
