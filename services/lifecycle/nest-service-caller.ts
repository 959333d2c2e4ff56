/** ServiceCaller over the Nest ZeroMQ clients of the four other services. */
import type { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, type Observable } from 'rxjs';
import type { ServiceName } from '../../lib/paths.js';
import type { ServiceCaller } from './service-caller.js';

export class NestServiceCaller implements ServiceCaller {
  constructor(private readonly clients: Partial<Record<ServiceName, ClientProxy>>) {}

  call<T>(service: ServiceName, pattern: string, data: unknown): Promise<T> {
    return lastValueFrom(this.client(service).send<T>(pattern, data));
  }

  stream<T>(service: ServiceName, pattern: string, data: unknown): AsyncIterable<T> {
    return observableToAsyncIterable(this.client(service).send<T>(pattern, data));
  }

  private client(service: ServiceName): ClientProxy {
    const c = this.clients[service];
    if (!c) throw new Error(`no client for service ${service}`);
    return c;
  }
}

/** Buffers values until the consumer pulls them; unsubscribes when the consumer stops early. */
async function* observableToAsyncIterable<T>(source: Observable<T>): AsyncGenerator<T> {
  const queue: T[] = [];
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const sub = source.subscribe({
    next: (v) => { queue.push(v); wake?.(); },
    error: (e) => { failure = e; done = true; wake?.(); },
    complete: () => { done = true; wake?.(); },
  });
  try {
    for (;;) {
      if (queue.length) { yield queue.shift()!; continue; }
      if (done) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    if (failure) throw failure;
  } finally {
    sub.unsubscribe();
  }
}
