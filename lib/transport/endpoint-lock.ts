/**
 * One lock per ipc endpoint. libzmq unlinks an existing socket file when it binds, so a second
 * service on the same path silently steals the endpoint from the first: the lock file
 * `<socket>.lock` (holding "pid starttime") makes the second one fail instead.
 *
 * The lock appears with its content in one step (write a private temp file, then link(2) it to
 * the lock name, which fails if the name exists). A lock whose process is gone is moved aside with
 * rename(2) and checked before deletion, so two takers cannot both delete a fresh lock.
 * The start time guards against a recycled pid keeping a dead lock "alive".
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { NestboxError } from '../errors.js';
import { isZombie } from '../proc-stat.js';

interface LockOwner {
  pid: number;
  /** Clock ticks since boot from /proc/<pid>/stat; undefined where /proc is unreadable. */
  startTime?: string;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)"; comm may contain spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 of stat(5), counted from field 3
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (isZombie(owner.pid)) return false;
  if (owner.startTime === undefined) return true;
  const now = processStartTime(owner.pid);
  return now === undefined || now === owner.startTime;
}

/** undefined: no lock file. null: unreadable content (a torn or foreign file). */
function readOwner(file: string): LockOwner | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const [pid, startTime] = text.trim().split(/\s+/);
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 ? { pid: n, startTime } : null;
}

function sameOwner(a: LockOwner | null | undefined, b: LockOwner | null | undefined): boolean {
  if (!a || !b) return a === b;
  return a.pid === b.pid && a.startTime === b.startTime;
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** Locks held by this process, released on exit even when nobody called release(). */
const heldLocks = new Set<EndpointLock>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const lock of heldLocks) lock.release();
  });
}

export class EndpointLock {
  readonly file: string;
  private readonly self: LockOwner;
  private held = false;

  /** @param socketPath the ipc socket path (without `ipc://`) */
  constructor(
    readonly socketPath: string,
    private readonly address = `ipc://${socketPath}`,
  ) {
    this.file = `${socketPath}.lock`;
    this.self = { pid: process.pid, startTime: processStartTime(process.pid) };
  }

  /** Takes the lock or throws ALREADY_EXISTS naming the pid that serves the endpoint. */
  acquire(): void {
    if (this.held) return;
    const content = this.self.startTime ? `${this.self.pid} ${this.self.startTime}\n` : `${this.self.pid}\n`;
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(temp, content, { mode: 0o600 });
    } catch (err) {
      throw new NestboxError('FAILED_PRECONDITION', `cannot lock endpoint ${this.address}: ${(err as Error).message}`);
    }
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          linkSync(temp, this.file);
          this.held = true;
          heldLocks.add(this);
          installExitHook();
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const owner = readOwner(this.file);
        if (owner && isAlive(owner)) {
          throw new NestboxError('ALREADY_EXISTS', `endpoint ${this.address} is already served by pid ${owner.pid}`, {
            endpoint: this.address,
            pid: owner.pid,
          });
        }
        if (owner !== undefined) this.removeStale(owner);
      }
      throw new NestboxError('UNAVAILABLE', `could not take the lock ${this.file}: it keeps changing hands`);
    } finally {
      unlinkQuietly(temp);
    }
  }

  /** Moves a dead owner's lock aside; puts it back if what moved turned out to be a live one. */
  private removeStale(stale: LockOwner | null): void {
    const aside = `${this.file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      renameSync(this.file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it
      throw err;
    }
    const moved = readOwner(aside);
    if (!sameOwner(moved, stale) && moved && isAlive(moved)) {
      // A racer took the lock between our read and our rename: hand it back.
      try {
        linkSync(aside, this.file);
      } catch {
        /* a third party holds it now; the loop sees who */
      }
    }
    unlinkQuietly(aside);
  }

  /** Drops the lock if (still) ours. Idempotent. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    heldLocks.delete(this);
    try {
      if (sameOwner(readOwner(this.file), this.self)) unlinkSync(this.file);
    } catch {
      /* best effort: a leftover lock of a dead pid is taken over next time */
    }
  }

  get isHeld(): boolean {
    return this.held;
  }
}
