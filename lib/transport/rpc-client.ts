/**
 * A plain promise/async-iterator client for one service, for the CLI and the supervisor: no Nest,
 * no rxjs and no zeromq: an ipc:// endpoint is reached over node:net (ipc-dealer-connection.ts).
 * Anything else (inproc://, only inside a zeromq process) needs its `connection` given.
 *
 *   const lifecycle = new RpcClient({ service: 'lifecycle', endpoint: endpointOf('lifecycle') });
 *   const info = await lifecycle.request('container.inspect', { id });
 *   for await (const chunk of lifecycle.stream('container.logs', { id, follow: true })) ...
 *   lifecycle.close();
 *
 * Failures are NestboxErrors: the service's own `{code, message, details}`, or UNAVAILABLE
 * (no answer in time, service went away), TOO_LARGE (request over the cap) raised here.
 */
import { NestboxError } from '../errors.js';
import type { CallerConnection, DealerConnectionOptions } from './caller-connection.js';
import { IpcDealerConnection } from './ipc-dealer-connection.js';
import type { ReplyBody } from './wire.js';

export type RpcClientOptions = Omit<DealerConnectionOptions, 'onStatus'>;

export class RpcClient {
  private readonly connection: CallerConnection;

  /** `connection`: another way to the service (a zeromq DealerConnection for inproc://). */
  constructor(options: RpcClientOptions, connection?: CallerConnection) {
    this.connection = connection ?? new IpcDealerConnection(options);
  }

  get service(): string {
    return this.connection.service;
  }

  get endpoint(): string {
    return this.connection.endpoint;
  }

  /** One request, one reply (the first value if the service streams). */
  request<T = unknown>(pattern: string, data: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let cancel: (() => void) | undefined;
      let settled = false;
      const listener = (reply: ReplyBody) => {
        if (settled) return;
        settled = true;
        if (reply.err) {
          reject(NestboxError.fromWire(reply.err));
          return;
        }
        resolve(reply.response as T);
        if (!reply.isDisposed) cancel?.(); // drop the rest of a reply we did not ask to stream
      };
      try {
        cancel = this.connection.call(pattern, data, listener, { timeoutMs: options.timeoutMs });
      } catch (err) {
        reject(err);
      }
    });
  }

  /**
   * A streamed reply: yields each chunk, ends when the service ends the stream, throws the
   * service's error. The request is sent when iteration starts; `firstReplyTimeoutMs` bounds the
   * wait for the first chunk, after which only a disconnect of the service ends a silent stream.
   * Breaking out of the loop stops listening (the service is not told).
   */
  async *stream<T = unknown>(
    pattern: string,
    data: unknown,
    options: { firstReplyTimeoutMs?: number } = {},
  ): AsyncGenerator<T, void, undefined> {
    const arrived: ReplyBody[] = [];
    let wake: (() => void) | undefined;
    const cancel = this.connection.call(
      pattern,
      data,
      (reply) => {
        arrived.push(reply);
        wake?.();
        wake = undefined;
      },
      { timeoutMs: options.firstReplyTimeoutMs },
    );
    try {
      for (;;) {
        if (arrived.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const reply = arrived.shift()!;
        if (reply.err) throw NestboxError.fromWire(reply.err);
        // A bare {isDisposed} only ends the stream; a last chunk may carry isDisposed too.
        if (!reply.isDisposed || reply.response !== undefined) yield reply.response as T;
        if (reply.isDisposed) return;
      }
    } finally {
      cancel();
    }
  }

  /** An event: no reply; resolves once the service's connection has taken it. */
  emit(pattern: string, data: unknown, options: { timeoutMs?: number } = {}): Promise<void> {
    return this.connection.emit(pattern, data, options);
  }

  /** Closes the socket; calls still waiting fail with UNAVAILABLE. */
  close(): void {
    this.connection.close();
  }
}
