/**
 * The fuse overlay driver end to end: a nestbox started with NESTBOX_OVERLAY_DRIVER=fuse (what
 * the namespace service's probe picks by itself on kernels < 5.11) runs containers on
 * fuse-overlayfs, as root and rootless, and leaves nothing behind: no daemon, no mount, no
 * container directory. Without fuse-overlayfs a run fails with one clear line and 125.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, rootlessUnavailable, unstage } from '../helpers/host.js';
import { NestboxInstance } from '../helpers/nestbox.js';

type Kind = 'root' | 'rootless';
const kinds: Kind[] = ['root', 'rootless'];
const skipWhy = { root: isRoot ? undefined : 'needs root', rootless: rootlessUnavailable() };
const FUSE = { NESTBOX_OVERLAY_DRIVER: 'fuse' };

const instances: NestboxInstance[] = [];
let noFuseBin: string | undefined;

function instance(kind: Kind, env: Record<string, string>): NestboxInstance {
  const nb = kind === 'root' ? NestboxInstance.root(env) : NestboxInstance.rootless(env);
  instances.push(nb);
  return nb;
}

/** A PATH with what nestbox needs from the host but no fuse-overlayfs. */
function pathWithoutFuse(): string {
  if (!noFuseBin) {
    noFuseBin = mkdtempSync('/tmp/nbx-nofuse-');
    chmodSync(noFuseBin, 0o755);
    for (const tool of ['newuidmap', 'newgidmap', 'unshare', 'rm']) symlinkSync(`/usr/bin/${tool}`, join(noFuseBin, tool));
  }
  return noFuseBin;
}

test.after.always(async () => {
  await Promise.all(instances.map((i) => i.stop()));
  if (noFuseBin) rmSync(noFuseBin, { recursive: true, force: true });
  unstage();
});

function each(title: string, fn: (t: ExecutionContext, kind: Kind) => Promise<void>) {
  for (const kind of kinds) {
    const why = skipWhy[kind];
    if (why) test.skip(`${kind}: ${title} (skipped: ${why})`, () => undefined);
    else test(`${kind}: ${title}`, (t) => fn(t, kind));
  }
}

/** fuse-overlayfs daemons and mounts of this instance (their paths are under its base dir). */
function leftovers(nb: NestboxInstance): { daemons: string[]; mounts: string[] } {
  const r = spawnSync('pgrep', ['-a', '-f', `^fuse-overlayfs .*${nb.base}/`], { encoding: 'utf8' });
  return {
    daemons: r.stdout.trim().split('\n').filter(Boolean),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(nb.base)),
  };
}

each('run --rm on fuse-overlayfs: touch /x works, / is fuse, nothing is left', async (t, kind) => {
  const nb = instance(kind, FUSE);
  const r = await nb.cli(['run', '--rm', 'busybox', 'sh', '-c', 'touch /x; cat /proc/mounts']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const root = r.stdout.split('\n').find((l) => l.split(' ')[1] === '/');
  t.regex(root ?? '', /^fuse-overlayfs \/ fuse\.fuse-overlayfs /, r.stdout);
  t.deepEqual(leftovers(nb), { daemons: [], mounts: [] });
  t.deepEqual(readdirSync(join(nb.dataRoot, 'containers')), []);
  const log = readFileSync(join(nb.runtimeDir, 'namespace.log'), 'utf8');
  t.deepEqual(log.split('\n').filter((l) => l.includes('overlay driver')), ['nestbox namespace: overlay driver: fuse (NESTBOX_OVERLAY_DRIVER=fuse)'], 'chosen and logged once');
});

each('without fuse-overlayfs a run is one clear line and 125, and leaves nothing', async (t, kind) => {
  const nb = instance(kind, { ...FUSE, PATH: pathWithoutFuse() });
  const r = await nb.cli(['run', '--rm', 'busybox', 'true']);
  t.is(r.code, 125);
  t.is(r.stdout, '');
  t.is(r.stderr, 'nestbox: fuse-overlayfs not found: install the fuse-overlayfs package\n');
  t.deepEqual(leftovers(nb), { daemons: [], mounts: [] });
  t.deepEqual(readdirSync(join(nb.dataRoot, 'containers')), []);
});
