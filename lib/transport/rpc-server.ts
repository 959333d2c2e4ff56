/**
 * A service without Nest, for the supervisor (nestboxd), which must start fast and stay small:
 *
 *   const server = new RpcServer({
 *     service: 'supervisor', endpoints: [endpointOf('supervisor')],
 *     handlers: { 'system.info': async () => info(), 'system.watch': (data) => events(data) },
 *   });
 *   await server.listen();
 *
 * Same wire and same rules as ZmqServer: a handler's value is one reply, an async iterable is a
 * stream, a thrown NestboxError reaches the caller with its code. There is no validation layer:
 * handlers check their input themselves (and throw NestboxError('INVALID_ARGUMENT', ...)).
 */
import { RouterEndpoint, type ReplyFn } from './router-endpoint.js';
import { consoleLogger, errorToWire, type RequestPacket, type TransportLogger } from './wire.js';

/** A request handler: resolve a value (one reply) or return an async iterable (a stream). */
export type RpcHandler = (data: unknown) => unknown | Promise<unknown> | AsyncIterable<unknown>;

export interface RpcServerOptions {
  service: string;
  endpoints: string[];
  /** Pattern -> handler. A message without id (an event) runs the handler and sends nothing back. */
  handlers: Record<string, RpcHandler>;
  maxMessageSize?: number;
  sendTimeoutMs?: number;
  logger?: TransportLogger;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return !!value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

export class RpcServer {
  private readonly endpoint: RouterEndpoint;
  private readonly handlers: Map<string, RpcHandler>;
  private readonly logger: TransportLogger;
  /** Streams in progress, so close() can stop them. */
  private readonly activeStreams = new Set<AsyncIterator<unknown>>();

  constructor(private readonly options: RpcServerOptions) {
    this.handlers = new Map(Object.entries(options.handlers));
    this.logger = options.logger ?? consoleLogger;
    this.endpoint = new RouterEndpoint({
      service: options.service,
      endpoints: options.endpoints,
      maxMessageSize: options.maxMessageSize,
      sendTimeoutMs: options.sendTimeoutMs,
      logger: this.logger,
      dispatch: (packet, reply) => void this.serve(packet, reply),
    });
  }

  get endpoints(): string[] {
    return this.endpoint.endpoints;
  }

  /** Locks and binds the endpoints; rejects with ALREADY_EXISTS when another process serves one. */
  listen(): Promise<void> {
    return this.endpoint.open();
  }

  async close(): Promise<void> {
    const streams = [...this.activeStreams];
    this.activeStreams.clear();
    await this.endpoint.close();
    // return() settles only once the generator is idle; a stream stuck waiting must not block close().
    for (const stream of streams) void stream.return?.(undefined)?.catch(() => {});
  }

  private async serve(packet: RequestPacket, reply: ReplyFn): Promise<void> {
    const { pattern, id, data } = packet;
    const handler = this.handlers.get(pattern);
    if (id === undefined) {
      if (!handler) {
        this.logger.warn(`service ${this.options.service}: no handler for event "${pattern}"`);
        return;
      }
      try {
        const result = await handler(data);
        if (isAsyncIterable(result)) for await (const _ of result); // an event handler may still stream work
      } catch (err) {
        this.logger.warn(`service ${this.options.service}: event "${pattern}" failed: ${errorToWire(err).message}`);
      }
      return;
    }
    if (!handler) {
      await reply({
        err: { code: 'UNIMPLEMENTED', message: `no handler for pattern "${pattern}" in service ${this.options.service}` },
        isDisposed: true,
      });
      return;
    }
    try {
      const result = await handler(data);
      if (isAsyncIterable(result)) {
        await this.stream(result, reply);
      } else {
        await reply({ response: result, isDisposed: true });
      }
    } catch (err) {
      await reply({ err: errorToWire(err), isDisposed: true });
    }
  }

  private async stream(chunks: AsyncIterable<unknown>, reply: ReplyFn): Promise<void> {
    const iterator = chunks[Symbol.asyncIterator]();
    this.activeStreams.add(iterator);
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        if (!(await reply({ response: next.value }))) {
          await iterator.return?.(); // the caller left: let the producer clean up
          return;
        }
      }
      await reply({ isDisposed: true });
    } finally {
      this.activeStreams.delete(iterator);
    }
  }
}
