/**
 * What a caller's connection to one service is, whichever way it reaches it: DealerConnection
 * (zeromq: the services among themselves, inproc in embedded mode) or IpcDealerConnection (plain
 * node:net: the CLI). Also the pieces of their contract they share: the size check, the
 * "not answering" error and a listener call that cannot break a receive loop.
 * No zeromq and no Nest here: the CLI loads this file.
 */
import { NestboxError } from '../errors.js';
import { encodeRequest, formatSize, type ReplyBody } from './wire.js';

export const DEFAULT_TIMEOUT_MS = 5000;

export interface DealerConnectionOptions {
  /** Service name, for messages ("service \"lifecycle\" is not answering ..."). */
  service: string;
  /** `ipc:///abs/path` or `inproc://name`. */
  endpoint: string;
  /** Default time to wait for a (first) reply. */
  timeoutMs?: number;
  /** Requests larger than this are refused locally; keep it equal to the service's cap. */
  maxMessageSize?: number;
  /** Told when the connection to the service comes up or goes down. */
  onStatus?: (status: 'connected' | 'disconnected') => void;
}

/** Receives every reply packet of one call; the last one has isDisposed (or err) set. */
export type ReplyListener = (reply: ReplyBody) => void;

export interface CallOptions {
  /** Time allowed until the first reply (default: the connection's timeoutMs). */
  timeoutMs?: number;
}

export interface CallerConnection {
  readonly service: string;
  readonly endpoint: string;
  readonly isClosed: boolean;
  /**
   * Sends a request; every reply packet goes to `listener`. Returns a function that forgets the
   * call (later replies are dropped). Throws NestboxError at once for a closed connection or an
   * oversize request.
   */
  call(pattern: string, data: unknown, listener: ReplyListener, options?: CallOptions): () => void;
  /** Sends an event (no reply). Resolves once handed over for a connected service. */
  emit(pattern: string, data: unknown, options?: CallOptions): Promise<void>;
  /** Closes the connection; calls still waiting fail with UNAVAILABLE. Idempotent. */
  close(): void;
}

/** The request as one JSON frame body, refused with TOO_LARGE over the service's cap. */
export function encodeCall(packet: { pattern: string; id?: string; data: unknown }, maxMessageSize: number, service: string): Buffer {
  let frame: Buffer;
  try {
    frame = encodeRequest(packet);
  } catch (err) {
    throw new NestboxError('INVALID_ARGUMENT', `request "${packet.pattern}" cannot be encoded as JSON: ${(err as Error).message}`);
  }
  if (frame.length > maxMessageSize) {
    throw new NestboxError(
      'TOO_LARGE',
      `request "${packet.pattern}" is ${frame.length} bytes, over the ${formatSize(maxMessageSize)} limit of service "${service}"`,
      { size: frame.length, limit: maxMessageSize },
    );
  }
  return frame;
}

export function notAnswering(service: string, endpoint: string, timeoutMs: number, what = 'no reply'): NestboxError {
  return new NestboxError('UNAVAILABLE', `service "${service}" is not answering on ${endpoint} (${what} in ${timeoutMs} ms)`);
}

/** A listener that throws is the caller's bug; it must not stop the receive loop for every other call. */
export function deliver(listener: ReplyListener, reply: ReplyBody): void {
  try {
    listener(reply);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
