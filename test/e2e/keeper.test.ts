/**
 * The keeper namespace (DESIGN.md "Rootless"): layers are extracted inside one long-lived user
 * namespace with the containers' id maps, so a file owned by uid 1000 in an image is owned by
 * the host id that 1000 maps to (rootless: subuid_base+999) and by 1000 in every container. A
 * killed keeper is replaced on the next use; a restarted namespace service adopts the live one;
 * nothing is left once the instance stops. Root, the rootless test user, and the user without a
 * subordinate range (single-id: other owners are squashed to container root).
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import type { TarEntry } from '../../services/storage/tar-writer.js';
import { SOLO_USER, TEST_USER, isRoot, rootlessUnavailable, unstage, userIds } from '../helpers/host.js';
import { addLayeredImage } from '../helpers/images.js';
import { NestboxInstance } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';

type Kind = 'root' | 'rootless' | 'solo';
const kinds: Kind[] = ['root', 'rootless', 'solo'];
const skipWhy: Record<Kind, string | undefined> = {
  root: isRoot ? undefined : 'needs root',
  rootless: rootlessUnavailable(),
  solo: rootlessUnavailable(SOLO_USER),
};
const instances: Partial<Record<Kind, NestboxInstance>> = {};

test.after.always(async () => {
  await Promise.all(Object.values(instances).map((i) => i.stop()));
  unstage();
});

function subStart(file: string, user: string): number {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!;
  return Number(line.split(':')[1]);
}

/** The host uid and gid that container id 1000 has, per kind (solo: squashed to the user). */
function hostIdsOf1000(kind: Kind): [number, number] {
  if (kind === 'root') return [subStart('/etc/subuid', 'root') + 1000, subStart('/etc/subgid', 'root') + 1000];
  if (kind === 'rootless') return [subStart('/etc/subuid', TEST_USER) + 999, subStart('/etc/subgid', TEST_USER) + 999];
  const ids = userIds(SOLO_USER)!;
  return [ids.uid, ids.gid];
}

function layerOf(name: string, content: string): TarEntry[] {
  return [
    { type: 'dir', path: 'home', mode: 0o755 },
    { type: 'dir', path: 'home/user', mode: 0o750, uid: 1000, gid: 1000 },
    { type: 'file', path: `home/user/${name}`, mode: 0o640, uid: 1000, gid: 1000, content: Buffer.from(content) },
    { type: 'file', path: `${name}-root`, mode: 0o644, content: Buffer.from(content) },
    // beyond every map (containers map 0..65535): squashed to container root
    { type: 'file', path: `${name}-far`, mode: 0o644, uid: 70000, gid: 70000, content: Buffer.from(content) },
    // set-id bits survive the chown; absolute symlink targets are kept as written
    { type: 'file', path: `${name}-suid`, mode: 0o4755, uid: 1000, gid: 1000, content: Buffer.from(content) },
    { type: 'symlink', path: `home/user/${name}-link`, target: `/home/user/${name}`, uid: 1000, gid: 1000 },
  ];
}

async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + scaled(5000);
  while (Date.now() < deadline) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`process ${pid} is still alive`);
}

function each(title: string, fn: (t: ExecutionContext, nb: NestboxInstance, kind: Kind) => Promise<void>) {
  for (const kind of kinds) {
    const why = skipWhy[kind];
    if (why) {
      test.skip(`${kind}: ${title} (skipped: ${why})`, () => undefined);
      continue;
    }
    test.serial(`${kind}: ${title}`, async (t) => {
      if (!instances[kind]) {
        instances[kind] = kind === 'root' ? NestboxInstance.root() : NestboxInstance.rootless({}, kind === 'solo' ? SOLO_USER : TEST_USER);
      }
      await fn(t, instances[kind]!, kind);
    });
  }
}

each('a file owned by 1000 in an image is 1000 in the container and its mapped id on the host', async (t, nb, kind) => {
  const first = await nb.cli(['run', '--rm', 'busybox', 'cat', '/proc/self/uid_map']);
  t.is(first.code, 0, first.stderr);
  const keeper = nb.keeper();
  t.truthy(keeper, 'the default image was extracted in a keeper, which stays');
  // the keeper's user namespace has exactly the containers' maps
  const norm = (s: string) => s.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  t.deepEqual(norm(readFileSync(`/proc/${keeper!.pid}/uid_map`, 'utf8')), norm(first.stdout));

  const diffId = addLayeredImage(nb, 'owned:1', layerOf('one', 'first layer\n'));
  const r = await nb.cli(['run', '--rm', 'owned:1', 'sh', '-c',
    'stat -c "%u:%g %a" /home/user /home/user/one /one-root /one-far /one-suid && stat -c %u:%g /home/user/one-link && readlink /home/user/one-link && cat /home/user/one-link']);
  t.is(r.code, 0, r.stderr);
  const owned = kind === 'solo' ? '0:0' : '1000:1000';
  t.deepEqual(r.stdout.trim().split('\n'), [`${owned} 750`, `${owned} 640`, '0:0 644', '0:0 644', `${owned} 4755`, owned, '/home/user/one', 'first layer']);

  const layer = new DataLayout(nb.dataRoot).layer(diffId);
  const [uid, gid] = hostIdsOf1000(kind);
  const st = lstatSync(join(layer, 'home', 'user', 'one'));
  t.deepEqual([st.uid, st.gid], [uid, gid]);
  const rootIds = kind === 'root' ? [subStart('/etc/subuid', 'root'), subStart('/etc/subgid', 'root')] : [userIds(nb.user)!.uid, userIds(nb.user)!.gid];
  const top = lstatSync(layer);
  t.deepEqual([top.uid, top.gid], rootIds, 'the layer directory belongs to container root');
  t.is(top.mode & 0o777, 0o755);
  t.is(nb.keeper()?.pid, keeper!.pid, 'the same keeper served both extractions');
});

each('as user 1000 the container can read and write its own files from the image', async (t, nb, kind) => {
  const r = await nb.cli(['run', '--rm', '-u', '1000:1000', 'owned:1', 'sh', '-c', 'id; cat /home/user/one && echo more >> /home/user/one && cat /home/user/one']);
  if (kind === 'solo') {
    // a single-id namespace has no uid 1000: the runtime refuses it in one line
    t.is(r.code, 125);
    t.regex(r.stderr.trim().split('\n').at(-1)!, /^nestbox: .*1000 is not mapped/);
    return;
  }
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'uid=1000 gid=1000\nfirst layer\nfirst layer\nmore\n');
});

each('a layer that cannot be extracted fails the run in one line and leaves nothing', async (t, nb) => {
  t.is((await nb.cli(['run', '--rm', 'busybox', 'true'])).code, 0); // the base layer is there
  const diffId = addLayeredImage(nb, 'broken:1', [
    { type: 'dir', path: 'opt', mode: 0o755, uid: 1000, gid: 1000 },
    { type: 'file', path: 'opt/kept-until-failure', mode: 0o644, uid: 1000, gid: 1000, content: Buffer.from('x') },
    { type: 'symlink', path: 'escape', target: '/etc' },
    { type: 'file', path: 'escape/nestbox-escape', mode: 0o644, content: Buffer.from('x') },
  ]);
  const r = await nb.cli(['run', '--rm', 'broken:1', 'true']);
  t.is(r.code, 125);
  const last = r.stderr.trim().split('\n').at(-1)!;
  t.regex(last, /^nestbox: extracting layer \S+: entry "escape\/nestbox-escape": it would be written through the symbolic link "escape"$/, last);
  t.false(existsSync('/etc/nestbox-escape'));
  const layers = new DataLayout(nb.dataRoot).layers;
  t.false(existsSync(new DataLayout(nb.dataRoot).layer(diffId)));
  t.deepEqual(readdirSync(layers).filter((d) => d.startsWith('.')), [], 'no staging directory left');
});

interface Info { services: { name: string; pid: number; state: string }[] }

async function namespacePid(nb: NestboxInstance): Promise<number | undefined> {
  const r = await nb.cli(['system', 'info']);
  if (r.code !== 0) return undefined;
  const ns = (JSON.parse(r.stdout) as Info).services.find((s) => s.name === 'namespace');
  return ns?.state === 'running' ? ns.pid : undefined;
}

each('a restarted namespace service adopts the live keeper', async (t, nb) => {
  const keeper = nb.keeper();
  t.truthy(keeper);
  const before = await namespacePid(nb);
  t.truthy(before);
  process.kill(before!, 'SIGKILL');
  const deadline = Date.now() + scaled(15_000);
  let after: number | undefined;
  while (Date.now() < deadline && (!(after = await namespacePid(nb)) || after === before)) await new Promise((r) => setTimeout(r, 100));
  t.truthy(after && after !== before, 'the supervisor restarted the namespace service');
  addLayeredImage(nb, 'owned:3', layerOf('three', 'third layer\n'));
  const r = await nb.cli(['run', '--rm', 'owned:3', 'cat', '/home/user/three']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'third layer\n');
  t.deepEqual(nb.keeper(), keeper, 'the same keeper, recognised by pid and start time');
});

each('a killed keeper is replaced on the next use', async (t, nb, kind) => {
  const old = nb.keeper();
  t.truthy(old);
  process.kill(old!.pid, 'SIGKILL');
  await waitGone(old!.pid);
  t.is(nb.keeper(), undefined);
  const diffId = addLayeredImage(nb, 'owned:2', layerOf('two', 'second layer\n'));
  const r = await nb.cli(['run', '--rm', 'owned:2', 'stat', '-c', '%u:%g', '/home/user/two']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), kind === 'solo' ? '0:0' : '1000:1000');
  const fresh = nb.keeper();
  t.truthy(fresh, 'a new keeper runs');
  t.notDeepEqual(fresh, old);
  const st = lstatSync(join(new DataLayout(nb.dataRoot).layer(diffId), 'home', 'user', 'two'));
  t.deepEqual([st.uid, st.gid], hostIdsOf1000(kind));
});

each('stopping the instance leaves no keeper behind', async (t, nb, kind) => {
  const k = nb.keeper();
  t.truthy(k);
  await nb.stop();
  delete instances[kind];
  await waitGone(k!.pid);
  t.pass();
});
