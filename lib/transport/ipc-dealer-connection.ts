/**
 * The caller side of the wire for the CLI: a DEALER spoken in plain JavaScript over node:net
 * (zmtp-codec.ts) to a service's ipc:// ROUTER, so a CLI start does not load the zeromq addon.
 * Same contract and messages as the zeromq DealerConnection (dealer-connection.ts):
 *  - a request over the size cap is refused here with TOO_LARGE;
 *  - until its first reply a call has a timeout -> UNAVAILABLE "not answering"; a request waits
 *    for the service to be there (reconnecting), and one that timed out is never sent later;
 *  - once sent, a call fails with UNAVAILABLE "went away" when the service disconnects.
 * inproc:// endpoints exist only inside a zeromq context: they need DealerConnection.
 */
import { connect, type Socket } from 'node:net';
import { NestboxError } from '../errors.js';
import { DEFAULT_TIMEOUT_MS, deliver, encodeCall, notAnswering, type CallerConnection, type CallOptions, type DealerConnectionOptions, type ReplyListener } from './caller-connection.js';
import { parseConnectAddress } from './endpoint-address.js';
import { decodeReply, DEFAULT_MAX_MESSAGE_SIZE } from './wire.js';
import { encodeCommand, encodeFrame, encodeGreeting, encodeReady, FrameReader, GREETING_SIZE, greetingProblem, parseCommand } from './zmtp-codec.js';

interface PendingCall {
  listener: ReplyListener;
  timer?: NodeJS.Timeout;
  sent: boolean;
}

/** A frame waiting for a connected service. */
interface Outgoing {
  frame: Buffer;
  /** false: its caller gave up meanwhile, drop it */
  stillWanted: () => boolean;
  written: () => void;
}

const RECONNECT_MIN_MS = 5;
const RECONNECT_MAX_MS = 100;

export class IpcDealerConnection implements CallerConnection {
  readonly service: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly maxMessageSize: number;
  private readonly path: string;
  private readonly pending = new Map<string, PendingCall>();
  private outbox: Outgoing[] = [];
  private socket: Socket | null = null;
  /** the handshake is done: frames go out at once */
  private connected = false;
  private greeting: Buffer | null = null;
  private reader: FrameReader;
  private parts: Buffer[] = [];
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectDelay = RECONNECT_MIN_MS;
  private nextId = 0;
  private closed = false;
  private readonly onStatus?: (status: 'connected' | 'disconnected') => void;

  constructor(options: DealerConnectionOptions) {
    const address = parseConnectAddress(options.endpoint);
    if (address.kind !== 'ipc') throw new NestboxError('INVALID_ARGUMENT', `${options.endpoint}: only ipc:// endpoints can be reached without zeromq`);
    this.path = address.path;
    this.service = options.service;
    this.endpoint = options.endpoint;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.onStatus = options.onStatus;
    this.reader = new FrameReader(this.maxMessageSize + 1024);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  call(pattern: string, data: unknown, listener: ReplyListener, options: CallOptions = {}): () => void {
    this.assertOpen();
    const id = (++this.nextId).toString(36);
    const frame = encodeFrame(encodeCall({ pattern, id, data }, this.maxMessageSize, this.service));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const call: PendingCall = { listener, sent: false };
    call.timer = setTimeout(() => this.fail(id, notAnswering(this.service, this.endpoint, timeoutMs)), timeoutMs);
    this.pending.set(id, call);
    this.send({ frame, stillWanted: () => this.pending.get(id) === call, written: () => (call.sent = true) });
    return () => this.forget(id);
  }

  emit(pattern: string, data: unknown, options: CallOptions = {}): Promise<void> {
    this.assertOpen();
    const frame = encodeFrame(encodeCall({ pattern, data }, this.maxMessageSize, this.service));
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        reject(notAnswering(this.service, this.endpoint, timeoutMs, 'event not taken'));
      }, timeoutMs);
      this.send({
        frame,
        stillWanted: () => waiting && !this.closed,
        written: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const err = new NestboxError('UNAVAILABLE', `connection to service "${this.service}" was closed`);
    for (const id of [...this.pending.keys()]) this.fail(id, err);
    this.outbox = [];
    this.socket?.destroy();
    this.socket = null;
  }

  private send(item: Outgoing): void {
    if (this.connected && this.socket) {
      this.socket.write(item.frame);
      item.written();
      return;
    }
    this.outbox.push(item);
    if (!this.socket && this.reconnectTimer === undefined) this.open();
  }

  private open(): void {
    this.reconnectTimer = undefined;
    this.outbox = this.outbox.filter((o) => o.stillWanted());
    if (this.closed || this.outbox.length === 0) return; // connect again with the next call
    const socket = connect({ path: this.path });
    this.socket = socket;
    this.greeting = null;
    this.reader = new FrameReader(this.maxMessageSize + 1024);
    this.parts = [];
    // libzmq takes messages only after it has sent its own READY: they wait for it (ready())
    socket.on('connect', () => socket.write(Buffer.concat([encodeGreeting(), encodeReady()])));
    socket.on('data', (chunk: Buffer) => this.receive(socket, chunk));
    socket.on('error', () => undefined); // 'close' follows: refused, missing socket, reset
    socket.on('close', () => this.lost(socket));
  }

  /** The handshake is done: what waited goes out, in one write. */
  private ready(socket: Socket): void {
    this.connected = true;
    this.onStatus?.('connected');
    this.reconnectDelay = RECONNECT_MIN_MS;
    const queued = this.outbox.filter((o) => o.stillWanted());
    this.outbox = [];
    if (queued.length) socket.write(queued.length === 1 ? queued[0].frame : Buffer.concat(queued.map((o) => o.frame)));
    for (const o of queued) o.written();
  }

  /** The service closed or never answered the connect: sent calls are lost, unsent ones wait. */
  private lost(socket: Socket): void {
    if (this.socket !== socket) return;
    const wasConnected = this.connected;
    this.socket = null;
    this.connected = false;
    if (this.closed) return;
    if (wasConnected) {
      this.onStatus?.('disconnected');
      const err = new NestboxError('UNAVAILABLE', `service "${this.service}" went away (disconnected from ${this.endpoint})`);
      for (const [id, call] of [...this.pending]) if (call.sent) this.fail(id, err);
    }
    if (this.outbox.some((o) => o.stillWanted())) {
      this.reconnectTimer = setTimeout(() => this.open(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    }
  }

  private receive(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    if (!this.greeting || this.greeting.length < GREETING_SIZE) {
      const got: Buffer = this.greeting ? Buffer.concat([this.greeting, chunk]) : chunk;
      if (got.length < GREETING_SIZE) {
        this.greeting = got;
        return;
      }
      this.greeting = got.subarray(0, GREETING_SIZE);
      const problem = greetingProblem(this.greeting);
      if (problem) return this.protocolError(socket, problem);
      chunk = got.subarray(GREETING_SIZE);
      if (chunk.length === 0) return;
    }
    let frames;
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      return this.protocolError(socket, (err as Error).message);
    }
    for (const frame of frames) {
      if (frame.command) {
        const { name, data } = parseCommand(frame.body);
        if (name === 'READY') this.ready(socket);
        else if (name === 'PING') socket.write(encodeCommand('PONG', data.subarray(2))); // TTL, then the context to echo
        else if (name === 'ERROR') return this.protocolError(socket, data.subarray(1).toString('utf8'));
        continue; // PONG, SUBSCRIBE...: nothing for a DEALER to do
      }
      this.parts.push(frame.body);
      if (frame.more) continue;
      const [first] = this.parts;
      this.parts = [];
      this.handleReply(first);
    }
  }

  /** A peer that is not a nestbox service (or broke the protocol): every waiting call is told. */
  private protocolError(socket: Socket, reason: string): void {
    const err = new NestboxError('UNAVAILABLE', `service "${this.service}" on ${this.endpoint} broke the protocol: ${reason}`);
    for (const id of [...this.pending.keys()]) this.fail(id, err);
    this.outbox = [];
    socket.destroy();
  }

  private handleReply(frame: Buffer | undefined): void {
    if (!frame) return;
    const decoded = decodeReply(frame);
    if (!decoded.ok) {
      if (decoded.id !== undefined) this.fail(decoded.id, new NestboxError('INTERNAL', `service "${this.service}" sent a malformed reply: ${decoded.reason}`));
      return;
    }
    const { id, response, err, isDisposed } = decoded.packet;
    const call = this.pending.get(id);
    if (!call) return; // a late reply to a call that timed out or was cancelled
    clearTimeout(call.timer); // the timeout covers the wait for the first reply only
    call.timer = undefined;
    if (err || isDisposed) this.pending.delete(id);
    deliver(call.listener, err ? { err: NestboxError.fromWire(err), isDisposed: true } : { response, isDisposed });
  }

  private assertOpen(): void {
    if (this.closed) throw new NestboxError('UNAVAILABLE', `connection to service "${this.service}" is closed`);
  }

  private forget(id: string): PendingCall | undefined {
    const call = this.pending.get(id);
    if (!call) return undefined;
    this.pending.delete(id);
    clearTimeout(call.timer);
    return call;
  }

  private fail(id: string, err: NestboxError): void {
    const call = this.forget(id);
    if (call) deliver(call.listener, { err, isDisposed: true });
  }
}
