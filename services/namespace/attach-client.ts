/**
 * Client of a shim's attach socket (<container dir>/attach.sock; the protocol is described in
 * native/src/shim/attach.h): frames of type (1 byte), length (4 bytes, big endian), payload.
 * Output and the final exit come as events; stdin goes the other way.
 */
import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ExitStatus } from '../../lib/contracts/types.js';

export const FRAME = { stdin: 0, stdout: 1, stderr: 2, exit: 3, stdinEnd: 4, resize: 5 } as const;
const MAX_PAYLOAD = 1 << 20;

export interface ShimExit extends ExitStatus {
  oomKilled?: boolean;
  finishedAt?: string;
}

export interface AttachHandlers {
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** the shim's exit frame, or undefined when the socket closed without one (shim killed) */
  onEnd(exit: ShimExit | undefined): void;
}

/** Splits a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(data: Buffer, onFrame: (type: number, payload: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (len > MAX_PAYLOAD) throw new Error(`attach frame of ${len} bytes is over the ${MAX_PAYLOAD} limit`);
      if (this.buf.length < 5 + len) return;
      const type = this.buf[0];
      const payload = this.buf.subarray(5, 5 + len);
      this.buf = this.buf.subarray(5 + len);
      onFrame(type, payload);
    }
  }
}

export function frame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export class AttachConnection {
  private constructor(private readonly socket: Socket) {}

  /**
   * Connects to DIR/attach.sock. Paths over the 107 bytes of sockaddr_un go through
   * /proc/self/fd/N of the directory (as podman does with conmon's socket).
   */
  static open(containerDir: string, handlers: AttachHandlers): Promise<AttachConnection> {
    let dirFd: number | undefined;
    let path = join(containerDir, 'attach.sock');
    if (Buffer.byteLength(path) > 107) {
      dirFd = openSync(containerDir, 'r');
      path = `/proc/self/fd/${dirFd}/attach.sock`;
    }
    return new Promise((resolve, reject) => {
      const socket = connect({ path });
      const release = () => {
        if (dirFd !== undefined) closeSync(dirFd);
        dirFd = undefined;
      };
      socket.once('error', (err) => {
        release();
        reject(err);
      });
      socket.once('connect', () => {
        release();
        socket.removeAllListeners('error');
        const reader = new FrameReader();
        let exit: ShimExit | undefined;
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          handlers.onEnd(exit);
        };
        socket.on('data', (d: Buffer) => {
          try {
            reader.push(d, (type, payload) => {
              if (type === FRAME.stdout) handlers.onOutput('stdout', payload);
              else if (type === FRAME.stderr) handlers.onOutput('stderr', payload);
              else if (type === FRAME.exit) exit = JSON.parse(payload.toString('utf8')) as ShimExit;
            });
          } catch {
            socket.destroy();
          }
        });
        socket.on('error', () => socket.destroy());
        socket.on('close', end);
        resolve(new AttachConnection(socket));
      });
    });
  }

  write(data: Buffer): void {
    this.socket.write(frame(FRAME.stdin, data));
  }

  closeStdin(): void {
    this.socket.write(frame(FRAME.stdinEnd));
  }

  /** The terminal's window size (ignored by a shim without one). */
  resize(rows: number, cols: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt16BE(rows, 0);
    p.writeUInt16BE(cols, 2);
    this.socket.write(frame(FRAME.resize, p));
  }

  /** Stops listening; the container goes on. */
  detach(): void {
    this.socket.destroy();
  }
}
