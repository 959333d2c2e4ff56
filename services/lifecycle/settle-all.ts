/**
 * Steps of one verb that do not depend on each other (the rootfs, the cgroup, the network of a
 * start; the same three undone at an end) run side by side, each a round trip to another service.
 * Unlike Promise.all, this waits for every step before it throws the first failure, so an undo
 * never runs beside a step still under way.
 */
export async function settleAll<T extends readonly unknown[]>(steps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
