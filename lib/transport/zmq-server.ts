/**
 * The Nest transport strategy of every nestbox service:
 *
 *   const app = await NestFactory.createMicroservice(StorageModule, {
 *     strategy: new ZmqServer({ service: 'storage', endpoints: [endpointOf('storage')] }),
 *   });
 *   useTransportDefaults(app); // validation pipe + RpcErrorFilter
 *   await app.listen();
 *
 * Requests go through Nest's handleRequest (pipes, guards, interceptors, filters, processing
 * hooks); every value of a handler's Observable (or async iterable) is one reply packet, and the
 * end of it is `isDisposed`. Events go through handleEvent.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import { MESSAGES } from '@nestjs/core/internal';
import { Server, type CustomTransportStrategy, type MessageHandler, type WritePacket } from '@nestjs/microservices';
import { finalize, from, isObservable, of, Subject, takeUntil, type Observable } from 'rxjs';
import { RouterEndpoint, type ReplyFn } from './router-endpoint.js';
import { rpcErrorToWire } from './rpc-error.filter.js';
import type { RequestPacket, TransportLogger } from './wire.js';
import { ZmqContext } from './zmq-context.js';

/** Handlers may be pinned to this transport with `@MessagePattern(p, ZMQ_TRANSPORT)`. */
export const ZMQ_TRANSPORT = Symbol.for('nestbox.transport.zmq');

export interface ZmqServerOptions {
  /** Service name, used in error messages ("no handler for pattern ... in service storage"). */
  service: string;
  /** `ipc:///abs/path.sock` and/or `inproc://name`; plain tcp:// is refused (no CURVE yet). */
  endpoints: string[];
  /** Cap on one request or reply frame in bytes (default 8 MiB). */
  maxMessageSize?: number;
  /** How long replies may wait for a caller that stopped reading before being dropped (default 10 s). */
  sendTimeoutMs?: number;
}

export type ZmqServerStatus = 'connected' | 'disconnected';

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return !!value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** What a handler returned, as the stream of reply values. */
function toReplyStream(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  // Nest itself would send an async generator as one `{}`; streaming it is what a handler means.
  if (isAsyncIterable(result)) return from(result);
  return of(result);
}

export class ZmqServer extends Server<Record<string, Function>, ZmqServerStatus> implements CustomTransportStrategy {
  override transportId = ZMQ_TRANSPORT;
  protected override readonly logger: LoggerService = new Logger(ZmqServer.name);
  private readonly endpoint: RouterEndpoint;
  /** Route lookups by the pattern string as received (Nest would JSON.parse it every time). */
  private readonly routeCache = new Map<string, MessageHandler>();
  /** One per reply stream in progress, so close() can end them. */
  private readonly activeReplies = new Set<Subject<void>>();
  private warnedAboutFilter = false;

  constructor(private readonly options: ZmqServerOptions) {
    super();
    const logger: TransportLogger = {
      warn: (m) => this.logger.warn(m),
      error: (m) => this.logger.error(m),
      debug: (m) => this.logger.debug?.(m),
    };
    this.endpoint = new RouterEndpoint({
      service: options.service,
      endpoints: options.endpoints,
      maxMessageSize: options.maxMessageSize,
      sendTimeoutMs: options.sendTimeoutMs,
      logger,
      dispatch: (packet, reply) => this.dispatch(packet, reply),
    });
    this.initializeSerializer(options as never);
    this.initializeDeserializer(options as never);
  }

  get service(): string {
    return this.options.service;
  }

  listen(callback: (err?: unknown) => void): void {
    this.endpoint.open().then(
      () => {
        this._status$.next('connected');
        callback();
      },
      (err) => {
        this._status$.next('disconnected');
        callback(err);
      },
    );
  }

  async close(): Promise<void> {
    for (const stop of this.activeReplies) stop.next();
    this.activeReplies.clear();
    await this.endpoint.close();
    this._status$.next('disconnected');
  }

  /** The transport has no events of its own; watch `status` instead. */
  on(event: string): never {
    throw new Error(`ZmqServer has no "${event}" event; subscribe to its status instead`);
  }

  /** The ROUTER socket. */
  unwrap<T>(): T {
    return this.endpoint.socket as T;
  }

  override addHandler(...args: Parameters<Server['addHandler']>): void {
    super.addHandler(...args);
    this.routeCache.clear();
  }

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    const cached = this.routeCache.get(pattern);
    if (cached) return cached;
    const handler = super.getHandlerByPattern(pattern);
    // Only hits are cached: unknown patterns come from callers and would grow the map without bound.
    if (handler) this.routeCache.set(pattern, handler);
    return handler;
  }

  private dispatch(packet: RequestPacket, reply: ReplyFn): void {
    const { pattern, id, data } = packet;
    if (id === undefined) {
      const context = new ZmqContext([pattern, 'event']);
      this.handleEvent(pattern, { pattern, data }, context).catch((err) =>
        this.logger.error(`event "${pattern}" failed: ${(err as Error)?.stack ?? err}`),
      );
      return;
    }
    const handler = this.getHandlerByPattern(pattern);
    if (!handler || handler.isEventHandler) {
      void reply({
        err: { code: 'UNIMPLEMENTED', message: `no handler for pattern "${pattern}" in service ${this.options.service}` },
        isDisposed: true,
      });
      return;
    }
    const context = new ZmqContext([pattern, 'request']);
    const stop = new Subject<void>();
    const respond = async (packet: WritePacket): Promise<boolean> => {
      if (packet.err !== undefined) this.checkErrorFilter(packet.err);
      const delivered = await reply({
        response: packet.response,
        err: packet.err === undefined ? undefined : rpcErrorToWire(packet.err),
        isDisposed: packet.isDisposed,
      });
      if (!delivered) stop.next(); // the caller is gone: stop producing for it
      return delivered;
    };
    const produce = async (): Promise<Observable<unknown>> => {
      const replies = toReplyStream(await handler(data, context));
      this.activeReplies.add(stop);
      return replies.pipe(
        takeUntil(stop),
        finalize(() => this.activeReplies.delete(stop)),
      );
    };
    // Declared void, but returns the processing hook's promise, which rejects if produce() does.
    const started = this.handleRequest(context, produce, respond) as unknown;
    if (started instanceof Promise) {
      started.catch((err: unknown) => void respond({ err, isDisposed: true }));
    }
  }

  /** Nest's default filter hides every error's code; say once how to fix that. */
  private checkErrorFilter(err: unknown): void {
    const e = err as { status?: unknown; message?: unknown };
    if (this.warnedAboutFilter || e?.status !== 'error' || e.message !== MESSAGES.UNKNOWN_EXCEPTION_MESSAGE) return;
    this.warnedAboutFilter = true;
    this.logger.warn(
      `service ${this.options.service}: a handler error reached the caller as "${MESSAGES.UNKNOWN_EXCEPTION_MESSAGE}"; ` +
        'install RpcErrorFilter (useTransportDefaults(app)) so callers get its code and message',
    );
  }
}
