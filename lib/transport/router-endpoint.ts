/**
 * The service side of the wire: one ROUTER socket bound to every endpoint of a service, holding
 * the ipc endpoint locks, with one receive loop and non-blocking per-caller sends. It decodes request
 * frames, answers the broken ones itself (or drops them with one log line), and hands good ones
 * to a dispatch callback together with a `reply` function bound to the caller.
 *
 * Used by the Nest ZmqServer and by the plain RpcServer (supervisor), so it knows nothing of Nest.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { Router } from 'zeromq';
import { NestboxError } from '../errors.js';
import { parseBindAddress, type BindAddress } from './endpoint-address.js';
import { EndpointLock } from './endpoint-lock.js';
import { RouterSender } from './router-sender.js';
import {
  consoleLogger,
  decodeRequest,
  DEFAULT_MAX_MESSAGE_SIZE,
  encodeReply,
  errorToWire,
  formatSize,
  recoverRequestId,
  type ReplyBody,
  type RequestPacket,
  type TransportLogger,
} from './wire.js';

/**
 * Sends one reply packet for the request it was made for. Resolves true when handed to zeromq,
 * false when it could not be delivered (the caller is gone or stopped reading, or the endpoint is
 * closed); it never rejects, so a producer can stop streaming to a caller that left.
 */
export type ReplyFn = (packet: ReplyBody) => Promise<boolean>;

/** Called for every well-formed request (with id) and event (without; its reply is a no-op). */
export type DispatchFn = (packet: RequestPacket, reply: ReplyFn) => void;

export interface RouterEndpointOptions {
  /** Service name, for messages. */
  service: string;
  /** `ipc:///abs/path` or `inproc://name`; tcp is refused (no CURVE yet). */
  endpoints: string[];
  /** Cap on a request frame (enforced by libzmq) and on a reply frame (enforced here). */
  maxMessageSize?: number;
  /**
   * How long replies may wait for a caller that stopped reading (it reached its high-water mark)
   * before they are dropped; other callers are not delayed meanwhile. Default 10 s.
   */
  sendTimeoutMs?: number;
  logger?: TransportLogger;
  dispatch: DispatchFn;
}

const noReply: ReplyFn = async () => true;

/**
 * Removes a socket file. libzmq would unlink whatever sits at the path on bind; refusing a
 * non-socket keeps a mistyped endpoint from deleting someone's file.
 */
function removeSocketFile(path: string, strict: boolean): void {
  try {
    if (!lstatSync(path).isSocket()) {
      if (strict) throw new NestboxError('FAILED_PRECONDITION', `${path} exists and is not a socket; not binding over it`);
      return;
    }
    unlinkSync(path);
  } catch (err) {
    if (err instanceof NestboxError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && strict) throw err;
  }
}

export class RouterEndpoint {
  readonly service: string;
  readonly maxMessageSize: number;
  private readonly addresses: BindAddress[];
  private readonly sendTimeoutMs: number;
  private readonly logger: TransportLogger;
  private readonly dispatch: DispatchFn;
  private router: Router | null = null;
  private sender: RouterSender | null = null;
  private locks: EndpointLock[] = [];
  private receiving: Promise<void> | null = null;

  constructor(options: RouterEndpointOptions) {
    if (!options.endpoints?.length) {
      throw new NestboxError('INVALID_ARGUMENT', `service ${options.service} has no endpoints to serve`);
    }
    this.service = options.service;
    this.addresses = options.endpoints.map(parseBindAddress); // refuses tcp before anything is bound
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.logger = options.logger ?? consoleLogger;
    this.dispatch = options.dispatch;
  }

  get endpoints(): string[] {
    return this.addresses.map((a) => a.address);
  }

  get isOpen(): boolean {
    return this.router !== null;
  }

  /** The ROUTER socket (for `unwrap()`); throws before `open()`. */
  get socket(): Router {
    if (!this.router) throw new Error(`service ${this.service} is not listening: call listen() first`);
    return this.router;
  }

  /** Takes the endpoint locks, binds and starts receiving. On failure nothing stays bound or locked. */
  async open(): Promise<void> {
    if (this.router) return;
    const router = new Router({
      linger: 0,
      mandatory: true, // report (EAGAIN/EHOSTUNREACH) instead of silently dropping replies
      maxMessageSize: this.maxMessageSize,
    });
    try {
      for (const address of this.addresses) {
        if (address.kind === 'ipc') {
          const lock = new EndpointLock(address.path, address.address);
          lock.acquire();
          this.locks.push(lock);
          // We hold the lock, so a socket file there is a leftover of a dead service.
          removeSocketFile(address.path, true);
        }
        try {
          await router.bind(address.address);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EADDRINUSE') {
            throw new NestboxError('ALREADY_EXISTS', `endpoint ${address.address} is already served in this process`);
          }
          throw new NestboxError('UNAVAILABLE', `cannot bind ${address.address}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      router.close();
      this.releaseEndpoints();
      throw err;
    }
    this.router = router;
    this.sender = new RouterSender(router, {
      stallLimitMs: this.sendTimeoutMs,
      maxBacklogBytes: 8 * this.maxMessageSize,
      onStall: (reason) => this.logger.warn(`service ${this.service}: ${reason}`),
    });
    this.receiving = this.receiveLoop(router);
  }

  /** Stops receiving, closes the socket, removes the ipc socket files, releases the locks. */
  async close(): Promise<void> {
    const router = this.router;
    if (!router) return;
    this.router = null;
    this.sender?.close();
    this.sender = null;
    router.close();
    await this.receiving;
    this.receiving = null;
    this.releaseEndpoints();
  }

  private releaseEndpoints(): void {
    // libzmq leaves the socket file behind on close; remove it while the lock still guards it.
    for (const lock of this.locks) {
      removeSocketFile(lock.socketPath, false);
      lock.release();
    }
    this.locks = [];
  }

  private async receiveLoop(router: Router): Promise<void> {
    try {
      for await (const frames of router) this.handleFrames(frames);
    } catch (err) {
      if (!router.closed) this.logger.error(`service ${this.service}: receive loop failed: ${(err as Error).message}`);
    }
  }

  private handleFrames(frames: Buffer[]): void {
    const [identity, ...body] = frames;
    if (body.length !== 1) {
      this.rejectMalformed(identity, body, `request must be one frame, got ${body.length}`);
      return;
    }
    const decoded = decodeRequest(body[0]);
    if (!decoded.ok) {
      this.rejectMalformed(identity, body, decoded.reason, decoded.id);
      return;
    }
    const packet = decoded.packet;
    const reply = packet.id === undefined ? noReply : this.replyTo(identity, packet.id, packet.pattern);
    try {
      this.dispatch(packet, reply);
    } catch (err) {
      // A dispatcher is not supposed to throw; if it does, the caller still gets an answer.
      this.logger.error(`service ${this.service}: dispatch of "${packet.pattern}" threw: ${(err as Error)?.stack ?? err}`);
      void reply({ err: errorToWire(err), isDisposed: true });
    }
  }

  private rejectMalformed(identity: Buffer, body: Buffer[], reason: string, id?: string): void {
    const recovered = id ?? body.map(recoverRequestId).find((x) => x !== undefined);
    if (recovered === undefined) {
      this.logger.warn(`service ${this.service}: dropped a malformed request (${reason})`);
      return;
    }
    void this.replyTo(identity, recovered, '?')({
      err: { code: 'INVALID_ARGUMENT', message: `malformed request: ${reason}` },
      isDisposed: true,
    });
  }

  /** A reply function bound to one caller and one request id. */
  private replyTo(identity: Buffer, id: string, pattern: string): ReplyFn {
    return async (body) => {
      const sender = this.sender;
      if (!sender) return false;
      let frame: Buffer;
      try {
        frame = encodeReply({
          id,
          response: body.response,
          err: body.err === undefined ? undefined : errorToWire(body.err),
          isDisposed: body.isDisposed || undefined,
        });
      } catch (err) {
        frame = encodeReply({
          id,
          err: { code: 'INTERNAL', message: `reply to "${pattern}" cannot be encoded as JSON: ${(err as Error).message}` },
          isDisposed: true,
        });
      }
      if (frame.length > this.maxMessageSize) {
        frame = encodeReply({
          id,
          err: {
            code: 'TOO_LARGE',
            message: `reply to "${pattern}" is ${frame.length} bytes, over the ${formatSize(this.maxMessageSize)} limit of service ${this.service}`,
          },
          isDisposed: true,
        });
      }
      // false: the caller disconnected (gave up or exited) or stopped reading; RouterSender logs stalls.
      return sender.send(identity, frame);
    };
  }
}
