/**
 * Serialises sends on one zeromq socket that may block (the caller's DEALER: it waits for a
 * service to connect, or at the high-water mark). zeromq.js allows a single pending send() per
 * socket; a second one fails with EBUSY while the first waits.
 *
 * An item may carry a deadline (the socket's sendTimeout is set to what is left of it, so a
 * blocked send gives up in time) and a last-moment check (a request whose caller already gave up
 * is not sent at all).
 */
import type { Writable } from 'zeromq';

export interface SendOptions {
  /** Epoch ms after which the send fails with EAGAIN instead of waiting any longer. */
  deadline?: number;
  /**
   * Called just before the item goes to zeromq: false skips it (resolved false). After a true,
   * the item is committed: it is sent, or fails by its deadline.
   */
  beforeSend?: () => boolean;
}

interface QueuedSend extends SendOptions {
  frames: Buffer | Buffer[];
  resolve: (sent: boolean) => void;
  reject: (err: unknown) => void;
}

type SendableSocket = Writable<Buffer | Buffer[]> & { closed: boolean };

export class SendQueue {
  private readonly items: QueuedSend[] = [];
  private head = 0;
  private running = false;
  private currentTimeout: number;

  /** @param fixedTimeoutMs the socket's sendTimeout for items without a deadline (-1: wait forever) */
  constructor(
    private readonly socket: SendableSocket,
    private readonly fixedTimeoutMs: number,
  ) {
    this.currentTimeout = fixedTimeoutMs;
    socket.sendTimeout = fixedTimeoutMs;
  }

  /** Resolves true once queued in zeromq, false if skipped; rejects with zeromq's error (EAGAIN at the deadline). */
  send(frames: Buffer | Buffer[], options: SendOptions = {}): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.items.push({ frames, resolve, reject, ...options });
      if (!this.running) void this.drain();
    });
  }

  get length(): number {
    return this.items.length - this.head;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.head < this.items.length) {
        const item = this.items[this.head++];
        // Compact now and then instead of shift()ing every item (O(n) each).
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
        if (item.beforeSend && !item.beforeSend()) {
          item.resolve(false);
          continue;
        }
        if (this.socket.closed) {
          item.reject(Object.assign(new Error('socket closed'), { code: 'ENOTSOCK' }));
          continue;
        }
        try {
          this.applyTimeout(item.deadline);
          await this.socket.send(item.frames);
          item.resolve(true);
        } catch (err) {
          item.reject(err);
        }
      }
    } finally {
      this.items.length = 0;
      this.head = 0;
      this.running = false;
    }
  }

  private applyTimeout(deadline: number | undefined): void {
    // 0 would mean "fail at once if not immediately possible", which is still right for a
    // deadline that has passed; rounding to 10 ms avoids a setsockopt per message.
    const wanted =
      deadline === undefined ? this.fixedTimeoutMs : Math.max(0, Math.ceil((deadline - Date.now()) / 10) * 10);
    if (wanted !== this.currentTimeout) {
      this.socket.sendTimeout = wanted;
      this.currentTimeout = wanted;
    }
  }
}
