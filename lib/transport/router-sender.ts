/**
 * Sends replies on a ROUTER so that one caller that stops reading cannot stall the others.
 *
 * ROUTER_MANDATORY makes zeromq report instead of silently dropping: EHOSTUNREACH when the caller
 * is gone, EAGAIN when its high-water mark is reached. A blocking send (a sendTimeout > 0) would
 * hold the socket's single pending send for every other caller behind it (a `logs -f` suspended
 * with Ctrl-Z would slow the whole service down), so sends here never block (sendTimeout 0) and
 * a caller at its high-water mark gets a backlog in memory of its own, retried with a short
 * backoff, in order. A backlog that makes no progress for `stallLimitMs` (or grows past
 * `maxBacklogBytes`) is dropped and the caller marked stalled: later replies to it are tried once
 * and dropped at once until one gets through again.
 */
import type { Router } from 'zeromq';

export interface RouterSenderOptions {
  /** How long replies wait for a caller that stopped reading before being dropped. */
  stallLimitMs: number;
  /** Most bytes kept for one caller that stopped reading. */
  maxBacklogBytes: number;
  /** Told once per stall. */
  onStall: (reason: string) => void;
}

interface QueuedReply {
  frame: Buffer;
  resolve: (delivered: boolean) => void;
}

interface Peer {
  identity: Buffer;
  queue: QueuedReply[];
  bytes: number;
  flushing: boolean;
  /** When the current wait at the high-water mark began (0: not waiting). */
  blockedSince: number;
  /** Gave up on this caller: replies are tried once, never queued, until one gets through. */
  stalled: boolean;
}

const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RouterSender {
  private readonly peers = new Map<string, Peer>();
  private closed = false;

  constructor(
    private readonly router: Router,
    private readonly options: RouterSenderOptions,
  ) {
    // Never wait inside zeromq: a waiting send would be the socket's one pending send.
    router.sendTimeout = 0;
  }

  /** Resolves true once zeromq took the reply, false if it was dropped (never rejects). */
  send(identity: Buffer, frame: Buffer): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const key = identity.toString('latin1');
    let peer = this.peers.get(key);
    if (!peer) {
      peer = { identity, queue: [], bytes: 0, flushing: false, blockedSince: 0, stalled: false };
      this.peers.set(key, peer);
    }
    const p = peer;
    return new Promise((resolve) => {
      p.queue.push({ frame, resolve });
      p.bytes += frame.length;
      if (!p.flushing) void this.flush(key, p);
    });
  }

  /** Drops every queued reply (resolved false). */
  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) this.dropAll(peer);
    this.peers.clear();
  }

  private async flush(key: string, peer: Peer): Promise<void> {
    peer.flushing = true;
    let retryMs = FIRST_RETRY_MS;
    while (peer.queue.length > 0 && !this.closed) {
      const item = peer.queue[0];
      let code: string | undefined;
      try {
        await this.router.send([peer.identity, item.frame]);
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      }
      if (code === undefined) {
        this.take(peer)?.resolve(true);
        peer.blockedSince = 0;
        peer.stalled = false;
        retryMs = FIRST_RETRY_MS;
        continue;
      }
      if (code !== 'EAGAIN') {
        peer.stalled = false;
        this.dropAll(peer); // EHOSTUNREACH: the caller is gone; anything else: the socket is
        break;
      }
      if (peer.stalled) {
        this.take(peer)?.resolve(false); // still not reading: do not keep anything for it
        continue;
      }
      const now = Date.now();
      if (peer.blockedSince === 0) peer.blockedSince = now;
      const waited = now - peer.blockedSince;
      if (waited >= this.options.stallLimitMs || peer.bytes > this.options.maxBacklogBytes) {
        this.options.onStall(
          `a caller stopped reading (${peer.queue.length} replies, ${peer.bytes} bytes waiting for ${waited} ms); dropping its replies`,
        );
        peer.stalled = true;
        this.dropAll(peer);
        break;
      }
      await sleep(retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
    peer.flushing = false;
    if (this.closed) this.dropAll(peer);
    if (!peer.stalled) this.peers.delete(key);
  }

  private take(peer: Peer): QueuedReply | undefined {
    const item = peer.queue.shift();
    if (item) peer.bytes -= item.frame.length;
    return item;
  }

  private dropAll(peer: Peer): void {
    for (const item of peer.queue) item.resolve(false);
    peer.queue = [];
    peer.bytes = 0;
  }
}
