/**
 * The CLI end of an attached run (-i / -t): connects to the container's shim (its attach socket,
 * native/src/shim/attach.h) and relays stdio itself, so no byte goes through the services. With
 * a local terminal and -it, that terminal is raw (the container's pty does the line editing and
 * turns Ctrl-C into SIGINT for its foreground process) and restored on every way out; its size
 * is sent at once and on each SIGWINCH. There docker's detach keys, Ctrl-P Ctrl-Q, leave the
 * container running and end the relay.
 */
import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { NestboxError } from '../lib/errors.js';
import { FRAME, FrameReader, frame, type ShimExit } from '../services/namespace/attach-client.js';

export interface RelayOptions {
  /** the shim's attach socket */
  socket: string;
  /** -i: send our stdin */
  stdin: boolean;
  /** -t: the container has a terminal (its size follows ours; with -i our terminal is raw) */
  tty: boolean;
  /** our stdin's end closes the container's (default); `attach` leaves it open, as docker's */
  closeStdin?: boolean;
}

/** how a relay ended: the shim's exit frame (none: the socket closed without one), or detached */
export interface RelayEnd {
  exit?: ShimExit;
  detached?: true;
}

/** docker's default detach keys: Ctrl-P then Ctrl-Q */
const CTRL_P = 0x10;
const CTRL_Q = 0x11;

/** docker's rule for run and exec: -it wants a terminal to read from; -t alone (output only) runs anywhere. */
export function requireTerminalInput(request: { interactive?: unknown; tty?: unknown; detach?: unknown }): void {
  if (request.interactive && request.tty && !request.detach && !process.stdin.isTTY) {
    throw new NestboxError('INVALID_ARGUMENT', 'the input device is not a TTY');
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export function relay(o: RelayOptions): Promise<RelayEnd> {
  return openSocket(o.socket).then((sock) => new Promise<RelayEnd>((resolve) => {
    // raw only when we read the terminal for the container (-it), as docker: with -t alone a local
    // Ctrl-C is still the CLI's own SIGINT
    const raw = o.tty && o.stdin && process.stdin.isTTY;
    const restore = raw ? rawTerminal() : () => undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      restore();
      process.exit(128 + (SIGNAL_NUMBERS[sig] ?? 0));
    };
    const signals = raw ? (['SIGHUP', 'SIGINT', 'SIGTERM'] as const) : [];
    for (const s of signals) process.on(s, onSignal);
    const sendSize = () => {
      const size = windowSize();
      if (!size) return;
      const p = Buffer.alloc(4);
      p.writeUInt16BE(size.rows, 0);
      p.writeUInt16BE(size.cols, 2);
      sock.write(frame(FRAME.resize, p));
    };
    if (o.tty) {
      sendSize();
      process.on('SIGWINCH', sendSize);
    }
    let detached = false;
    const detachKeys = raw ? new DetachKeys() : undefined;
    const onInput = (d: Buffer) => {
      const { input, detach } = detachKeys ? detachKeys.scan(d) : { input: d, detach: false };
      if (input.length) sock.write(frame(FRAME.stdin, input));
      if (detach) {
        detached = true;
        sock.end(); // the container goes on; its stdin stays open
      }
    };
    const onInputEnd = () => {
      if (o.closeStdin !== false) sock.write(frame(FRAME.stdinEnd));
    };
    if (o.stdin) {
      process.stdin.on('data', onInput);
      process.stdin.once('end', onInputEnd);
    }
    const reader = new FrameReader();
    let exit: ShimExit | undefined;
    sock.on('data', (d: Buffer) => {
      try {
        reader.push(d, (type, payload) => {
          if (type === FRAME.stdout || type === FRAME.stderr) {
            const out = type === FRAME.stdout ? process.stdout : process.stderr;
            // a slow local reader slows the container, as under docker attach
            if (!out.write(payload)) {
              sock.pause();
              out.once('drain', () => sock.resume());
            }
          } else if (type === FRAME.exit) {
            exit = JSON.parse(payload.toString('utf8')) as ShimExit;
          }
        });
      } catch {
        sock.destroy();
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      restore();
      for (const s of signals) process.off(s, onSignal);
      process.off('SIGWINCH', sendSize);
      if (o.stdin) {
        process.stdin.off('data', onInput);
        process.stdin.off('end', onInputEnd);
        process.stdin.pause();
      }
      resolve(detached ? { detached: true } : { ...(exit ? { exit } : {}) });
    });
  }));
}

/** Finds Ctrl-P Ctrl-Q in what the terminal sends; a Ctrl-P at a chunk's end waits for the next one. */
export class DetachKeys {
  private held = false;

  scan(chunk: Buffer): { input: Buffer; detach: boolean } {
    const data = this.held ? Buffer.concat([Buffer.from([CTRL_P]), chunk]) : chunk;
    this.held = false;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== CTRL_P) continue;
      if (i === data.length - 1) {
        this.held = true;
        return { input: data.subarray(0, i), detach: false };
      }
      if (data[i + 1] === CTRL_Q) return { input: data.subarray(0, i), detach: true };
    }
    return { input: data, detach: false };
  }
}

/** Paths over the 107 bytes of sockaddr_un go through /proc/self/fd/N of the directory. */
function openSocket(path: string): Promise<Socket> {
  let dirFd: number | undefined;
  let target = path;
  if (Buffer.byteLength(path) > 107) {
    dirFd = openSync(dirname(path), 'r');
    target = `/proc/self/fd/${dirFd}/${basename(path)}`;
  }
  return new Promise<Socket>((resolve, reject) => {
    const sock = connect({ path: target });
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
  }).finally(() => {
    if (dirFd !== undefined) closeSync(dirFd);
  });
}

/** Raw mode on a local terminal stdin; returns its undo (also run at process exit). */
function rawTerminal(): () => void {
  if (!process.stdin.isTTY) return () => undefined;
  process.stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.stdin.setRawMode(false);
    process.off('exit', restore);
  };
  process.on('exit', restore);
  return restore;
}

/** docker's choice: the size of the terminal we write to, else of the one we read from. */
/** -t: the local terminal's size for the request, so the container's pty is made with it (no resize race). */
export function consoleSize(request: { tty?: unknown }): { consoleSize?: { height: number; width: number } } {
  const size = request.tty ? windowSize() : undefined;
  return size ? { consoleSize: { height: size.rows, width: size.cols } } : {};
}

function windowSize(): { rows: number; cols: number } | undefined {
  if (process.stdout.isTTY && process.stdout.rows && process.stdout.columns) return { rows: process.stdout.rows, cols: process.stdout.columns };
  if (process.stderr.isTTY && process.stderr.rows && process.stderr.columns) return { rows: process.stderr.rows, cols: process.stderr.columns };
  return undefined;
}
