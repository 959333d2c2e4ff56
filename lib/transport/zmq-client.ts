/**
 * Nest's face of the caller side: a ClientProxy over the connection the plain RpcClient uses for
 * ipc:// (node:net, one thread hop fewer each way than zeromq's I/O thread), or a zeromq
 * DealerConnection for inproc:// (embedded mode). Register it with
 *
 *   ClientsModule.register([{ name: STORAGE, customClass: ZmqClient,
 *                             options: { service: 'storage', endpoint: endpointOf('storage') } }])
 *
 * (ClientsModule calls `new ZmqClient(options)` and closes it on application shutdown). Errors
 * come out of `send()`'s observable as NestboxError, so `await firstValueFrom(client.send(...))`
 * rejects with the service's code, message and details.
 */
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { NestboxError } from '../errors.js';
import type { CallerConnection } from './caller-connection.js';
import { DealerConnection } from './dealer-connection.js';
import { IpcDealerConnection } from './ipc-dealer-connection.js';
import type { RpcClientOptions } from './rpc-client.js';

export type ZmqClientOptions = RpcClientOptions;

export type ZmqClientStatus = 'connected' | 'disconnected';

/**
 * ClientsModule's `customClass` is typed `Type<ClientProxy>` (default generics), so the status
 * type stays `string`; the values are ZmqClientStatus.
 */
export class ZmqClient extends ClientProxy {
  private connection: CallerConnection | null = null;

  constructor(private readonly options: ZmqClientOptions) {
    super();
    // Required by ClientProxy; the wire format itself is fixed (lib/transport/wire.ts).
    this.initializeSerializer(options as never);
    this.initializeDeserializer(options as never);
  }

  /** Called by Nest before every send/emit: creates the socket once. zeromq connects in the background. */
  connect(): Promise<void> {
    if (!this.connection || this.connection.isClosed) {
      const options = { ...this.options, onStatus: (status: ZmqClientStatus) => this._status$.next(status) };
      this.connection = options.endpoint.startsWith('ipc://') ? new IpcDealerConnection(options) : new DealerConnection(options);
    }
    return Promise.resolve();
  }

  /** Closes the socket; calls in flight fail with UNAVAILABLE. A later send() reconnects. */
  close(): void {
    this.connection?.close();
    this.connection = null;
  }

  /** The connection (IpcDealerConnection or DealerConnection) under this client. */
  unwrap<T>(): T {
    if (!this.connection) throw new Error('ZmqClient is not connected: call connect() first');
    return this.connection as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    try {
      return this.openConnection().call(this.normalizePattern(packet.pattern), packet.data, callback);
    } catch (err) {
      callback({ err, isDisposed: true });
      return () => {};
    }
  }

  protected dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    return this.openConnection().emit(this.normalizePattern(packet.pattern), packet.data) as Promise<T>;
  }

  protected override serializeError(err: unknown): NestboxError {
    return NestboxError.fromWire(err);
  }

  private openConnection(): CallerConnection {
    if (!this.connection || this.connection.isClosed) void this.connect();
    return this.connection!;
  }
}
