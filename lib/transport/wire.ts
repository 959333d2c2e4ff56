/**
 * The nestbox wire format, shared by every caller and every service (DESIGN.md "Contracts").
 *
 * A request or event is ONE frame of JSON `{pattern, id?, data}` (an event has no id); a reply
 * is ONE frame of JSON in Nest's WritePacket shape `{id, response?, err?, isDisposed?}`. A plain
 * reply is one packet with isDisposed; a stream is several `response` packets, then an end
 * (`isDisposed`, possibly on the last chunk) or an `err`.
 *
 * No Nest and no zeromq here: the CLI loads this file and must start fast.
 */
import { NestboxError, type WireError } from '../errors.js';

/** Default cap on one message (request or reply frame), in bytes. */
export const DEFAULT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024;

/** Ids are opaque to the service; the bound only keeps a hostile peer from making us echo megabytes. */
const MAX_ID_LENGTH = 128;

export interface RequestPacket {
  pattern: string;
  /** Absent for an event (no reply expected). */
  id?: string;
  data: unknown;
}

export interface ReplyPacket {
  id: string;
  response?: unknown;
  err?: WireError;
  isDisposed?: boolean;
}

/** A reply as handed to a caller's listener: no id, and an error may already be a NestboxError. */
export interface ReplyBody {
  response?: unknown;
  err?: WireError | NestboxError;
  isDisposed?: boolean;
}

export type Decoded<T> = { ok: true; packet: T } | { ok: false; reason: string; id?: string };

export function encodeRequest(packet: RequestPacket): Buffer {
  return Buffer.from(JSON.stringify(packet), 'utf8');
}

export function encodeReply(packet: ReplyPacket): Buffer {
  return Buffer.from(JSON.stringify(packet), 'utf8');
}

function parseObject(frame: Buffer): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;
}

/** Recovers the id of a broken request, when there is one worth replying to. */
export function recoverRequestId(frame: Buffer): string | undefined {
  const obj = parseObject(frame);
  return typeof obj === 'object' && isValidId(obj.id) ? obj.id : undefined;
}

export function decodeRequest(frame: Buffer): Decoded<RequestPacket> {
  const obj = parseObject(frame);
  if (typeof obj === 'string') return { ok: false, reason: `request frame is ${obj}` };
  const id = isValidId(obj.id) ? obj.id : undefined;
  if (obj.id !== undefined && id === undefined) {
    return { ok: false, reason: `request id must be a string of 1..${MAX_ID_LENGTH} characters` };
  }
  if (typeof obj.pattern !== 'string' || obj.pattern.length === 0) {
    return { ok: false, reason: 'request has no string "pattern"', id };
  }
  return { ok: true, packet: { pattern: obj.pattern, id, data: obj.data } };
}

function isWireError(err: unknown): err is WireError {
  return (
    !!err &&
    typeof err === 'object' &&
    typeof (err as WireError).code === 'string' &&
    typeof (err as WireError).message === 'string'
  );
}

export function decodeReply(frame: Buffer): Decoded<ReplyPacket> {
  const obj = parseObject(frame);
  if (typeof obj === 'string') return { ok: false, reason: `reply frame is ${obj}` };
  if (!isValidId(obj.id)) return { ok: false, reason: 'reply has no valid "id"' };
  if (obj.err !== undefined && !isWireError(obj.err)) {
    return { ok: false, reason: 'reply "err" is not {code, message}', id: obj.id };
  }
  if (obj.isDisposed !== undefined && typeof obj.isDisposed !== 'boolean') {
    return { ok: false, reason: 'reply "isDisposed" is not a boolean', id: obj.id };
  }
  return {
    ok: true,
    packet: { id: obj.id, response: obj.response, err: obj.err as WireError | undefined, isDisposed: obj.isDisposed as boolean | undefined },
  };
}

/**
 * Any thrown or emitted error as `{code, message, details?}`. A NestboxError keeps its code; a
 * plain `{code, message}` object (what an RpcException carries) passes as it is; any other Error
 * is INTERNAL with its message (an fs error's `code` like ENOENT is not a wire code).
 */
export function errorToWire(err: unknown): WireError {
  if (err instanceof NestboxError) return err.toWire();
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message || err.name };
  if (err && typeof err === 'object' && typeof (err as WireError).message === 'string') {
    const w = err as WireError;
    const code = typeof w.code === 'string' && w.code ? w.code : 'INTERNAL';
    return w.details === undefined ? { code, message: w.message } : { code, message: w.message, details: w.details };
  }
  if (typeof err === 'string') return { code: 'INTERNAL', message: err };
  return { code: 'INTERNAL', message: 'unknown error' };
}

/** "8 MiB", "65536 bytes": sizes in messages people read. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** Where a transport writes its few log lines; Nest's Logger and `console` both fit. */
export interface TransportLogger {
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export const consoleLogger: TransportLogger = {
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};
