/**
 * docker's --sig-proxy (default on for an attached `run` without a terminal): the signals the CLI
 * gets (Ctrl-C's SIGINT, a SIGTERM from whoever runs it...) go to the container's pid 1 through
 * lifecycle.kill instead of ending the CLI, which goes on following the container to its exit.
 * Signals that come before the container is known are sent once it is.
 */
import { constants } from 'node:os';
import { LIFECYCLE } from '../lib/contracts/patterns.js';
import { clientFor } from './services.js';

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export class SignalProxy {
  private containerId?: string;
  private readonly waiting: number[] = [];
  private readonly handler = (sig: NodeJS.Signals) => this.forward(constants.signals[sig]);

  constructor() {
    for (const s of PROXIED) process.on(s, this.handler);
  }

  /** the container now exists: what came before goes to it */
  attach(containerId: string): void {
    this.containerId = containerId;
    for (const n of this.waiting.splice(0)) this.forward(n);
  }

  stop(): void {
    for (const s of PROXIED) process.off(s, this.handler);
  }

  private forward(signal: number): void {
    if (!this.containerId) {
      this.waiting.push(signal);
      return;
    }
    const client = clientFor('lifecycle', 10_000);
    // it may have ended meanwhile: its exit is what the run reports
    client.request(LIFECYCLE.kill, { container: this.containerId, signal }).catch(() => undefined).finally(() => client.close());
  }
}
