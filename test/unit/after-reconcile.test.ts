import test from 'ava';
import { defer, lastValueFrom, of, toArray } from 'rxjs';
import { AfterReconcile } from '../../services/lifecycle/after-reconcile.interceptor.js';
import type { Reconciler } from '../../services/lifecycle/reconciler.js';

test('a lifecycle handler runs only once the reconcile at start is done, and its stream passes whole', async (t) => {
  let done!: () => void;
  const ready = new Promise<void>((r) => (done = r));
  const interceptor = new AfterReconcile({ ready } as unknown as Reconciler);
  let called = false;
  const reply = interceptor.intercept(undefined, { handle: () => defer(() => ((called = true), of('a', 'b'))) });
  const values = lastValueFrom(reply.pipe(toArray()));
  await new Promise((r) => setTimeout(r, 20));
  t.false(called, 'not before the reconcile');
  done();
  t.deepEqual(await values, ['a', 'b']);
  t.true(called);
});

test('a failed handler fails the reply', async (t) => {
  const interceptor = new AfterReconcile({ ready: Promise.resolve() } as unknown as Reconciler);
  const reply = interceptor.intercept(undefined, { handle: () => defer(() => Promise.reject(new Error('no such container: x'))) });
  await t.throwsAsync(lastValueFrom(reply), { message: 'no such container: x' });
});
