/**
 * Every lifecycle request waits for the reconcile at start (reconciler.ts): records tell the
 * truth before anyone reads or changes them. One interceptor on both lifecycle controllers, so no
 * handler can forget it; a handler runs (and a streamed reply starts) only once `ready` settled.
 * Streaming handlers return Observables (rxjs `from` over their async generators): Nest passes
 * an Observable's values through an interceptor, not an async iterable's.
 */
import { Inject, Injectable, type CallHandler, type NestInterceptor } from '@nestjs/common';
import { from, mergeMap, type Observable } from 'rxjs';
import { Reconciler } from './reconciler.js';

@Injectable()
export class AfterReconcile implements NestInterceptor {
  constructor(@Inject(Reconciler) private readonly reconciler: Reconciler) {}

  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return from(this.reconciler.ready).pipe(mergeMap(() => next.handle()));
  }
}
