/**
 * One nestbox instance per kind (root, and rootless through setpriv) for a whole e2e test file,
 * stopped at the end; `each(title, fn)` registers the test once per kind, serially (the instances
 * are shared), or as skipped with the reason when that kind cannot run here.
 */
import test, { type ExecutionContext } from 'ava';
import { isRoot, rootlessUnavailable, unstage } from './host.js';
import { NestboxInstance } from './nestbox.js';

export type Kind = 'root' | 'rootless';

export function eachInstance(): (title: string, fn: (t: ExecutionContext, nb: NestboxInstance, kind: Kind) => Promise<void>) => void {
  const instances: Partial<Record<Kind, NestboxInstance>> = {};
  const skipWhy: Record<Kind, string | undefined> = { root: isRoot ? undefined : 'needs root', rootless: rootlessUnavailable() };
  test.before(() => {
    if (!skipWhy.root) instances.root = NestboxInstance.root();
    if (!skipWhy.rootless) instances.rootless = NestboxInstance.rootless();
  });
  test.after.always(async () => {
    await Promise.all(Object.values(instances).map((i) => i.stop()));
    unstage();
  });
  return (title, fn) => {
    for (const kind of ['root', 'rootless'] as const) {
      const why = skipWhy[kind];
      if (why) test.skip(`${kind}: ${title} (skipped: ${why})`, () => undefined);
      else test.serial(`${kind}: ${title}`, (t) => fn(t, instances[kind]!, kind));
    }
  };
}
