export { ExitCode, main as runZmqClient } from './cli.js'
export type { CliIo } from './cli.js'
export { Client } from './client.js'
export type { ClientOptions, ClientStats, ResolvedClientOptions } from './client.js'
export { ClientError, ClientErrorCode, isClientError, statusError } from './errors.js'
export type { ClientErrorCodeValue, ClientErrorDetails } from './errors.js'
export { decodeJson, encodeJson, jsonClient, requestJson, requestJsonLazy } from './json.js'
export type { JsonClient } from './json.js'
export { LazyPirateClient } from './lazy-pirate-client.js'
export type { LazyPirateClientOptions, ResolvedLazyPirateClientOptions, RetryEvent } from './lazy-pirate-client.js'
export { DEFAULT_ENDPOINT } from './options.js'
export type { BaseClientOptions, CurveOptions, RequestOptions, ResolvedBaseClientOptions } from './options.js'
export {
  ACK_CREDIT, ACK_FRAMING, Command, DEFAULT_SERVICE, FRAMING_COMPACT, MAX_SLOTS, MDPC, MDPW, MMI_PREFIX, MMI_SERVICE, MmiStatus, NSZC,
  NSZ_WORKER_EXTENSION, Status, decodeStatus, decodeWorkerMessage, encodeAck, encodeAckTo, encodeCredit, encodeDisconnect, encodeDisconnectTo,
  encodeHeartbeat, encodeHeartbeatTo, encodeReady, encodeReply, encodeRequest, encodeRfc7Reply, encodeRequestTo, encodeStatus, isDecodeError,
  isStatus, routedRequestJobId, statusText
} from './protocol.js'
export { decodeCompactMessage, encodeCompactHeartbeat, encodeCompactReply, encodeCompactRequestTo, isCompact } from './protocol-compact.js'
export {
  REQ_ENVELOPE, decodeClientRequest, decodeErrorFrame, decodeNszReply, encodeClientReply, encodeClientReplyTo, encodeMdpRequest, encodeNszRequest,
  replyEnvelope
} from './protocol-frontend.js'
export type { ClientRequest, ErrorFrame, NszReply, ReplyEnvelope } from './protocol-frontend.js'
export type { Body, CommandCode, Decoded, ExtensionParams, Frame, StatusCode, WorkerExtension, WorkerMessage } from './protocol.js'
