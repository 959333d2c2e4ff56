/**
 * A streamed reply that waits for the reconcile at start first (records tell the truth before
 * anyone reads them), for the lifecycle controllers' streaming handlers.
 */
import { from, type Observable } from 'rxjs';

export function afterReady<T>(ready: Promise<void>, stream: () => AsyncIterable<T>): Observable<T> {
  return from((async function* () {
    await ready;
    yield* stream();
  })());
}
