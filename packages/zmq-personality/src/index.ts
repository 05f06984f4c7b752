export { echo, replyFrames } from './app.js'
export type { App, JobFunction, JobInfo, JobReply } from './app.js'
export { Broker } from './broker.js'
export { leastRecentlyUsed } from './dispatch.js'
export type { DispatchJob, DispatchPolicy, DispatchService, DispatchWorker, ReadyWorkers, WaitingJobs } from './dispatch.js'
export { checkEndpoint, connectable, tcpEndpoint } from './endpoints.js'
export type { EndpointCheck, Transport } from './endpoints.js'
export { SecurityErrorCode, ZmqErrorCodes, ZmqPersonalityError } from './errors.js'
export type { ZmqErrorCode } from './errors.js'
export type { BrokerEvents, DisconnectReason, WorkerAgentEvents } from './events.js'
export {
  brokerOptionSpecs, brokerServerOptionSpecs, endpointOption, serviceNameOption, workerAgentOptionSpecs
} from './options.js'
export type { BrokerOptions, ResolvedBrokerOptions, ResolvedWorkerAgentOptions, WorkerAgentOptions } from './options.js'
export {
  applyCurveClient, applyCurveServer, curveClientSocketOptions, curvePublicKey, curveServerSocketOptions
} from './security/curve.js'
export type {
  CurveClientOptions, CurveClientSocketOptions, CurveServerOptions, CurveServerSocketOptions
} from './security/curve.js'
export { readKeyFile, writeKeyFile } from './security/key-file.js'
export type { CurveKeyFile } from './security/key-file.js'
export { ZAP_ENDPOINT, ZapHandler, zapSocketOptions } from './security/zap-handler.js'
export type {
  ZapAuthorize, ZapDecision, ZapHandlerEvents, ZapHandlerOptions, ZapLog, ZapMechanism, ZapRequest, ZapStatus
} from './security/zap-handler.js'
export { BACKEND_DOMAIN, FRONTEND_DOMAIN, createZapPolicy } from './security/zap-policy.js'
export type { ZapPolicyOptions } from './security/zap-policy.js'
export { zmqServerOptionSpecs } from './server-options.js'
export type { CurveSockets, ResolvedZmqServerOptions, ZmqServerOptions } from './server-options.js'
export { DISPATCH_POLICY, SOCKET_FACTORY, zeromqSocketFactory } from './tokens.js'
export type { SocketFactory } from './tokens.js'
export type {
  BrokerEndpoints, BrokerLosses, BrokerState, BrokerStats, DisconnectWorkerOptions, JobObserver, LossKind, RefusalReason, RegistrationRefusal, RemoteWorkerStatus,
  UndeliveredReason, WorkerGoneReason, WorkerInfo, WorkerState, ZapRefusal
} from './types.js'
export { WorkerAgent } from './worker-agent.js'
export type { Job, JobHandler, JobResult, WorkerCloseOptions } from './worker-agent.js'
export { WorkerPool } from './worker-pool.js'
export type { ResolvedWorkerPoolOptions, WorkerPoolOptions } from './worker-pool.js'
export { ZmqServer } from './zmq-server.js'
export type { ZmqRequest, ZmqServerStatus } from './zmq-server.js'
