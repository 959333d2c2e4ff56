/**
 * The caller side of the wire, shared by RpcClient (plain, for the CLI) and ZmqClient (Nest):
 * one DEALER connected to one service, a receive loop dispatching replies by id, a serialised
 * send queue, and the timeouts zeromq does not have.
 *
 * Rules every call gets:
 *  - a request over the size cap is refused here with TOO_LARGE (the service's libzmq would
 *    otherwise drop the connection);
 *  - until its first reply a call has a timeout -> UNAVAILABLE "service X is not answering";
 *    `immediate` keeps zeromq from queueing requests for a service that is not there, so a
 *    timed-out request is never delivered late to a service that starts afterwards;
 *  - once sent, a call fails with UNAVAILABLE "went away" when the service disconnects (a
 *    stream has no timeout after its first chunk, so this is what ends it when the service dies).
 *
 * No Nest and no rxjs here: the CLI loads this file.
 */
import { Dealer } from 'zeromq';
import { NestboxError } from '../errors.js';
import { parseConnectAddress } from './endpoint-address.js';
import { SendQueue } from './send-queue.js';
import { decodeReply, DEFAULT_MAX_MESSAGE_SIZE } from './wire.js';
import {
  DEFAULT_TIMEOUT_MS, deliver, encodeCall, notAnswering,
  type CallerConnection, type CallOptions, type DealerConnectionOptions, type ReplyListener,
} from './caller-connection.js';

export { DEFAULT_TIMEOUT_MS, type CallOptions, type DealerConnectionOptions, type ReplyListener } from './caller-connection.js';

interface PendingCall {
  listener: ReplyListener;
  timer?: NodeJS.Timeout;
  /** Inside zeromq's send() right now (waiting for a peer or below the high-water mark). */
  sending: boolean;
  /** Handed to zeromq: only then can a disconnect have lost it. */
  sent: boolean;
  /** The timeout fired while sending: the send's own outcome (at its deadline) decides. */
  expired: boolean;
}

export class DealerConnection implements CallerConnection {
  readonly service: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly maxMessageSize: number;
  readonly socket: Dealer;
  private readonly pending = new Map<string, PendingCall>();
  private readonly sendQueue: SendQueue;
  private nextId = 0;
  private closed = false;

  constructor(options: DealerConnectionOptions) {
    parseConnectAddress(options.endpoint);
    this.service = options.service;
    this.endpoint = options.endpoint;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    // linger 0: closing never waits for unsent requests. immediate: only queue to a live peer.
    this.socket = new Dealer({ linger: 0, immediate: true });
    const onStatus = options.onStatus;
    this.socket.events.on('disconnect', () => {
      onStatus?.('disconnected');
      this.failSentCalls(new NestboxError('UNAVAILABLE', `service "${this.service}" went away (disconnected from ${this.endpoint})`));
    });
    if (onStatus) this.socket.events.on('connect', () => onStatus('connected'));
    this.socket.connect(this.endpoint);
    this.sendQueue = new SendQueue(this.socket, this.timeoutMs);
    void this.receiveLoop();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Calls currently waiting for replies. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sends a request; every reply packet goes to `listener`. Returns a function that forgets the
   * call (later replies are dropped). Throws NestboxError at once for a closed connection or an
   * oversize request.
   */
  call(pattern: string, data: unknown, listener: ReplyListener, options: CallOptions = {}): () => void {
    this.assertOpen();
    const id = (++this.nextId).toString(36);
    const frame = this.encode({ pattern, id, data });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const call: PendingCall = { listener, sending: false, sent: false, expired: false };
    const notAnswering = () => this.notAnswering(timeoutMs);
    const onTimeout = () => {
      // A caller told "not answering" must not have its request delivered afterwards: while
      // zeromq holds the request, wait for that send to give up at (about) the same deadline.
      if (call.sending) call.expired = true;
      else this.fail(id, notAnswering());
    };
    call.timer = setTimeout(onTimeout, timeoutMs);
    this.pending.set(id, call);
    const beforeSend = () => {
      if (this.pending.get(id) !== call) return false; // timed out or cancelled while queued
      call.sending = true;
      return true;
    };
    this.sendQueue.send(frame, { deadline: Date.now() + timeoutMs, beforeSend }).then(
      (sent) => {
        call.sending = false;
        if (!sent) return;
        call.sent = true;
        if (call.expired && this.pending.get(id) === call) {
          // It went out at the last moment: the service has it now, so give it time to answer.
          call.expired = false;
          call.timer = setTimeout(onTimeout, timeoutMs);
        }
      },
      (err) => {
        call.sending = false;
        this.fail(id, this.sendFailure(err, notAnswering));
      },
    );
    return () => this.forget(id);
  }

  /** Sends an event (no reply). Resolves once handed to zeromq for a connected service. */
  async emit(pattern: string, data: unknown, options: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const frame = this.encode({ pattern, data });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    try {
      await this.sendQueue.send(frame, { deadline: Date.now() + timeoutMs });
    } catch (err) {
      throw this.sendFailure(err, () => this.notAnswering(timeoutMs, 'event not taken'));
    }
  }

  /** Closes the socket; calls still waiting fail with UNAVAILABLE. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new NestboxError('UNAVAILABLE', `connection to service "${this.service}" was closed`);
    for (const id of [...this.pending.keys()]) this.fail(id, err);
    this.socket.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new NestboxError('UNAVAILABLE', `connection to service "${this.service}" is closed`);
  }

  private encode(packet: { pattern: string; id?: string; data: unknown }): Buffer {
    return encodeCall(packet, this.maxMessageSize, this.service);
  }

  private notAnswering(timeoutMs: number, what = 'no reply'): NestboxError {
    return notAnswering(this.service, this.endpoint, timeoutMs, what);
  }

  /** EAGAIN means the deadline passed with no peer to take the message. */
  private sendFailure(err: unknown, notAnswering: () => NestboxError): NestboxError {
    if ((err as NodeJS.ErrnoException)?.code === 'EAGAIN') return notAnswering();
    if (this.closed) return new NestboxError('UNAVAILABLE', `connection to service "${this.service}" was closed`);
    return new NestboxError('UNAVAILABLE', `cannot send to service "${this.service}" on ${this.endpoint}: ${(err as Error)?.message}`);
  }

  private forget(id: string): PendingCall | undefined {
    const call = this.pending.get(id);
    if (!call) return undefined;
    this.pending.delete(id);
    if (call.timer) clearTimeout(call.timer);
    return call;
  }

  private fail(id: string, err: NestboxError): void {
    const call = this.forget(id);
    if (call) deliver(call.listener, { err, isDisposed: true });
  }

  private failSentCalls(err: NestboxError): void {
    for (const [id, call] of [...this.pending]) {
      if (call.sent) this.fail(id, err);
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const [frame] of this.socket) this.handleReply(frame);
    } catch (err) {
      if (this.closed) return;
      const failure = new NestboxError('UNAVAILABLE', `receiving from service "${this.service}" failed: ${(err as Error).message}`);
      for (const id of [...this.pending.keys()]) this.fail(id, failure);
      this.close();
    }
  }

  private handleReply(frame: Buffer | undefined): void {
    if (!frame) return;
    const decoded = decodeReply(frame);
    if (!decoded.ok) {
      if (decoded.id !== undefined) {
        this.fail(decoded.id, new NestboxError('INTERNAL', `service "${this.service}" sent a malformed reply: ${decoded.reason}`));
      }
      return;
    }
    const { id, response, err, isDisposed } = decoded.packet;
    const call = this.pending.get(id);
    if (!call) return; // a late reply to a call that timed out or was cancelled
    if (call.timer) {
      clearTimeout(call.timer); // the timeout covers the wait for the first reply only
      call.timer = undefined;
    }
    if (err || isDisposed) this.pending.delete(id);
    deliver(call.listener, err ? { err: NestboxError.fromWire(err), isDisposed: true } : { response, isDisposed });
  }
}
