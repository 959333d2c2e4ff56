/**
 * The nestbox ZeroMQ transport.
 *
 * This index loads Nest and rxjs (ZmqServer, ZmqClient, validation). Code that must start fast
 * (the CLI, the supervisor) imports `./rpc-client.js` / `./rpc-server.js` directly instead.
 */
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  errorToWire,
  type ReplyBody,
  type ReplyPacket,
  type RequestPacket,
  type TransportLogger,
} from './wire.js';
export { parseBindAddress } from './endpoint-address.js';
export { EndpointLock } from './endpoint-lock.js';
export { RouterEndpoint, type DispatchFn, type ReplyFn, type RouterEndpointOptions } from './router-endpoint.js';
export { DEFAULT_TIMEOUT_MS, DealerConnection, type DealerConnectionOptions } from './dealer-connection.js';
export { RpcClient, type RpcClientOptions } from './rpc-client.js';
export { RpcServer, type RpcHandler, type RpcServerOptions } from './rpc-server.js';
export { ZmqContext, type ZmqMessageKind } from './zmq-context.js';
export { ZMQ_TRANSPORT, ZmqServer, type ZmqServerOptions, type ZmqServerStatus } from './zmq-server.js';
export { ZmqClient, type ZmqClientOptions, type ZmqClientStatus } from './zmq-client.js';
export { RpcErrorFilter, rpcErrorToWire } from './rpc-error.filter.js';
export {
  createValidationPipe,
  flattenValidationErrors,
  useTransportDefaults,
  validationErrorToWire,
  type InvalidProperty,
} from './validation.js';
