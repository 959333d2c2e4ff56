/**
 * ZMTP 3.0 (rfc.zeromq.org/spec/23) as a DEALER with the NULL mechanism speaks it to a libzmq
 * ROUTER: the 64-byte greeting, the READY command, and frames. Pure functions on Buffers, so the
 * CLI can talk to the services over node:net without loading the zeromq addon (~12 ms a start).
 */

/** signature (0xFF, 8 bytes, 0x7F), version 3.0, mechanism "NULL" padded to 20, as-server 0, filler */
export const GREETING_SIZE = 64;

export function encodeGreeting(): Buffer {
  const g = Buffer.alloc(GREETING_SIZE);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.write('NULL', 12, 'ascii');
  return g;
}

/** Why the peer's greeting cannot be used, or undefined when it can. */
export function greetingProblem(g: Buffer): string | undefined {
  if (g.length < GREETING_SIZE || g[0] !== 0xff || g[9] !== 0x7f) return 'not a ZMTP 3 peer';
  if (g[10] < 3) return `ZMTP version ${g[10]}.${g[11]} is too old`;
  const mechanism = g.subarray(12, 32).toString('ascii').replace(/\0+$/, '');
  if (mechanism !== 'NULL') return `security mechanism ${mechanism} is not supported`;
  return undefined;
}

const MORE = 0x01;
const LONG = 0x02;
const COMMAND = 0x04;

function frameHeader(flags: number, size: number): Buffer {
  if (size <= 255) return Buffer.from([flags, size]);
  const h = Buffer.alloc(9);
  h[0] = flags | LONG;
  h.writeBigUInt64BE(BigInt(size), 1);
  return h;
}

/** One message frame (the last of its message). */
export function encodeFrame(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(0, body.length), body]);
}

/** A command frame: name, then its data. */
export function encodeCommand(name: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'ascii'), data]);
  return Buffer.concat([frameHeader(COMMAND, body.length), body]);
}

/** READY with the metadata a libzmq ROUTER needs: our socket type. */
export function encodeReady(socketType = 'DEALER'): Buffer {
  const name = Buffer.from('Socket-Type', 'ascii');
  const value = Buffer.from(socketType, 'ascii');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(value.length);
  return encodeCommand('READY', Buffer.concat([Buffer.from([name.length]), name, size, value]));
}

export interface Frame {
  command: boolean;
  more: boolean;
  body: Buffer;
}

export type FrameRead = { frame: Frame; used: number } | { frame: undefined; used: 0 } | { error: string };

/** The frame at the start of `buf`: complete, not yet (used 0), or too large (error). */
export function readFrame(buf: Buffer, maxSize: number): FrameRead {
  if (buf.length < 2) return { frame: undefined, used: 0 };
  const flags = buf[0];
  let size: number;
  let header: number;
  if (flags & LONG) {
    if (buf.length < 9) return { frame: undefined, used: 0 };
    const big = buf.readBigUInt64BE(1);
    if (big > BigInt(maxSize)) return { error: `a frame of ${big} bytes is over the ${maxSize}-byte limit` };
    size = Number(big);
    header = 9;
  } else {
    size = buf[1];
    header = 2;
  }
  if (size > maxSize) return { error: `a frame of ${size} bytes is over the ${maxSize}-byte limit` };
  if (buf.length < header + size) return { frame: undefined, used: 0 };
  const body = buf.subarray(header, header + size);
  return { frame: { command: (flags & COMMAND) !== 0, more: (flags & MORE) !== 0, body }, used: header + size };
}

/** A command frame's name and data. */
export function parseCommand(body: Buffer): { name: string; data: Buffer } {
  const n = body[0] ?? 0;
  return { name: body.subarray(1, 1 + n).toString('ascii'), data: body.subarray(1 + n) };
}

/**
 * Cuts a byte stream into frames. Chunks are kept as they come and joined once a frame is
 * complete, so a large frame arriving in many chunks is copied once, not once per chunk.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;
  /** bytes the frame at the head needs in all (header + body), once its header is known */
  private needed = 0;

  constructor(private readonly maxSize: number) {}

  /** The complete frames now available; throws on a frame over the limit. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.needed > 0 && this.length < this.needed) return frames;
      const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
      this.chunks = [buf];
      const r = readFrame(buf, this.maxSize);
      if ('error' in r) throw new Error(r.error);
      if (r.frame === undefined) {
        this.needed = buf.length >= 9 || (buf.length >= 2 && !(buf[0] & LONG)) ? frameSize(buf) : 0;
        return frames;
      }
      frames.push(r.frame);
      this.needed = 0;
      const rest = buf.subarray(r.used);
      this.chunks = rest.length ? [rest] : [];
      this.length = rest.length;
      if (rest.length === 0) return frames;
    }
  }
}

/** header + body size of the frame whose header starts `buf` (header complete) */
function frameSize(buf: Buffer): number {
  return buf[0] & LONG ? 9 + Number(buf.readBigUInt64BE(1)) : 2 + buf[1];
}
