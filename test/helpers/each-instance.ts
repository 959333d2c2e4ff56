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

export type Driver = 'kernel' | 'fuse';

/**
 * Each kind on each overlay driver (fuse forced: what the probe picks on kernels < 5.11), one
 * instance per test, made in the test and stopped at the end of the file.
 */
export function eachDriverInstance(): (title: string, fn: (t: ExecutionContext, nb: NestboxInstance, kind: Kind, driver: Driver) => Promise<void>) => void {
  const instances: NestboxInstance[] = [];
  const skipWhy: Record<Kind, string | undefined> = { root: isRoot ? undefined : 'needs root', rootless: rootlessUnavailable() };
  test.after.always(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    unstage();
  });
  return (title, fn) => {
    for (const driver of ['kernel', 'fuse'] as const) {
      for (const kind of ['root', 'rootless'] as const) {
        const name = `${kind}, ${driver} driver: ${title}`;
        const why = skipWhy[kind];
        if (why) {
          test.skip(`${name} (skipped: ${why})`, () => undefined);
          continue;
        }
        test.serial(name, async (t) => {
          const env: Record<string, string> = driver === 'fuse' ? { NESTBOX_OVERLAY_DRIVER: 'fuse' } : {};
          const nb = kind === 'root' ? NestboxInstance.root(env) : NestboxInstance.rootless(env);
          instances.push(nb);
          await fn(t, nb, kind, driver);
        });
      }
    }
  };
}
