/**
 * `logs [-f] [--tail N] [--since T] [--until T]`: the entries of the container's json-file log
 * (`ctr.log`, written by its shim: native/src/shim/log.c), oldest first, in chunks that stay far
 * below the message cap; with `follow`, what is appended too, until the container has ended and
 * the rest is read, or `until` has passed. As docker's reader: the tail is taken first, then the
 * time window (since and until both inclusive, to the nanosecond). Timestamps and the
 * stdout/stderr split are the caller's to show (each entry has both).
 */
import { closeSync, existsSync, openSync, readSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import type { LogChunk, LogEntry } from '../../lib/contracts/types.js';
import { rfc3339Nanos } from '../../lib/rfc3339.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';

const CHUNK_BYTES = 256 * 1024;
/** one read of the file at most (an entry is at most a shim read's worth, far less) */
const READ_BYTES = 1024 * 1024;
const POLL_MS = 100;
/**
 * A quiet follow sends an empty chunk this often: a caller that went away (Ctrl-C) is noticed
 * when its reply cannot be delivered, and the transport stops this stream
 */
const HEARTBEAT_MS = 5_000;

/** since/until in nanoseconds since the epoch */
export interface LogWindow {
  since?: bigint;
  until?: bigint;
}

/** The entries inside the window (one without a readable time is kept, as nothing says it is outside). */
function inWindow(entries: LogEntry[], w: LogWindow): LogEntry[] {
  if (w.since === undefined && w.until === undefined) return entries;
  return entries.filter((e) => {
    const t = rfc3339Nanos(e.time);
    return t === undefined || ((w.since === undefined || t >= w.since) && (w.until === undefined || t <= w.until));
  });
}

export class LogFlow {
  constructor(private readonly store: ContainerStore, private readonly monitor: ExitMonitor) {}

  async *logs(ref: string, follow: boolean, tail?: number, window: LogWindow = {}): AsyncGenerator<LogChunk> {
    const record = this.store.find(ref);
    const file = join(this.store.layout.container(record.id), 'ctr.log');
    // a created container has nothing to follow yet: docker prints what there is and returns
    const live = record.state === 'running' || (record.state as string) === 'stopping';
    let ended = !follow || !live;
    if (!ended) void this.monitor.whenFinalized(record.id).then(() => (ended = true));
    const reader = new LogReader(file);
    try {
      // what is there now, read a slice at a time (a large log never sits whole in memory);
      // always one chunk first: the caller's first-reply deadline is not the container's run time
      if (tail === undefined) {
        let first = true;
        do {
          yield* chunks(inWindow(reader.readNew(), window), first);
          first = false;
        } while (reader.behind);
      } else {
        let last: LogEntry[] = [];
        do {
          last.push(...reader.readNew());
          if (last.length > 2 * tail + 1024) last = last.slice(-tail);
        } while (reader.behind);
        yield* chunks(tail === 0 ? [] : inWindow(last.slice(-tail), window), true);
      }
      let quietSince = Date.now();
      const pastUntil = () => window.until !== undefined && BigInt(Date.now()) * 1_000_000n > window.until;
      while (!ended && !pastUntil()) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        // read after seeing the end: whatever the container wrote before it ended is in the file
        const last = ended || pastUntil();
        const fresh = inWindow(reader.readNew(), window);
        const beat = !fresh.length && Date.now() - quietSince >= HEARTBEAT_MS;
        if (fresh.length || beat) quietSince = Date.now();
        yield* chunks(fresh, beat);
        while (reader.behind) yield* chunks(inWindow(reader.readNew(), window), false);
        if (last || !this.store.exists(record.id)) break;
      }
    } finally {
      reader.close();
    }
  }
}

function* chunks(entries: LogEntry[], evenEmpty: boolean): Generator<LogChunk> {
  if (!entries.length && evenEmpty) yield { entries: [] };
  let batch: LogEntry[] = [];
  let size = 0;
  for (const e of entries) {
    batch.push(e);
    size += e.log.length + 64;
    if (size >= CHUNK_BYTES) {
      yield { entries: batch };
      batch = [];
      size = 0;
    }
  }
  if (batch.length) yield { entries: batch };
}

/** Reads whole lines appended since the last read (a line still being written waits for its newline). */
class LogReader {
  private fd: number | undefined;
  private offset = 0;
  private partial = Buffer.alloc(0);
  /** the last read stopped before the end of the file */
  behind = false;

  constructor(private readonly file: string) {}

  readNew(): LogEntry[] {
    if (this.fd === undefined) {
      if (!existsSync(this.file)) return [];
      try {
        this.fd = openSync(this.file, 'r');
      } catch {
        return []; // removed meanwhile (--rm)
      }
    }
    const size = fstatSync(this.fd).size;
    this.behind = false;
    if (size <= this.offset) return [];
    this.behind = size - this.offset > READ_BYTES;
    const buf = Buffer.alloc(Math.min(size - this.offset, READ_BYTES));
    const n = readSync(this.fd, buf, 0, buf.length, this.offset);
    this.offset += n;
    // split at the last newline in bytes: a UTF-8 sequence is never cut in two
    const data = Buffer.concat([this.partial, buf.subarray(0, n)]);
    const end = data.lastIndexOf(0x0a) + 1;
    this.partial = Buffer.from(data.subarray(end));
    const lines = data.subarray(0, end).toString('utf8').split('\n');
    const out: LogEntry[] = [];
    for (const line of lines) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as LogEntry;
        if (typeof e.log === 'string') out.push({ stream: e.stream === 'stderr' ? 'stderr' : 'stdout', log: e.log, time: e.time });
      } catch { /* a torn line of a crash: skipped, as docker's reader does */ }
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
