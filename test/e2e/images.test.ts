/**
 * `nestbox images` and `nestbox rmi` as docker users expect them, and the garbage collection
 * behind rmi: a removed image's blobs and extracted layer go unless another image or a
 * container still needs them; crash leftovers in layers/ are swept when the services start.
 * Root and rootless (where removing a layer with files of subordinate owners needs the keeper).
 */
import { createHash } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DataLayout } from '../../lib/data-layout.js';
import { ImageStore, type OciImageConfig } from '../../services/storage/image-store.js';
import { findStaticBusybox } from '../../services/storage/default-image.js';
import { humanSize } from '../../cli/commands/units.js';
import { eachInstance, type Kind } from '../helpers/each-instance.js';
import { userIds } from '../helpers/host.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { rawTar } from '../helpers/raw-tar.js';
import { ROOT_SUBID, ROOTLESS_SUBID } from '../helpers/runtime-bundle.js';
import { scaled } from '../helpers/time.js';

const each = eachInstance();
const work = mkdtempSync('/tmp/nbx-images-');
chmodSync(work, 0o755);
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const busybox = readFileSync(findStaticBusybox());

/** A runnable one-layer rootfs whose `priv/` (0700) and its file belong to uid 1000: subordinate owners on disk. */
function imageTar(marker: string): { file: string; diffId: string; bytes: number } {
  const data = rawTar([
    { path: 'bin', type: 'Directory' },
    { path: 'bin/busybox', content: busybox, mode: 0o755 },
    ...['sh', 'cat', 'true', 'sleep'].map((a) => ({ path: `bin/${a}`, type: 'SymbolicLink' as const, linkpath: 'busybox' })),
    { path: 'priv', type: 'Directory', mode: 0o700, uid: 1000, gid: 1000 },
    { path: 'priv/marker', content: Buffer.from(`${marker}\n`), mode: 0o600, uid: 1000, gid: 1000 },
  ]);
  const file = join(work, `${marker}.tar`);
  writeFileSync(file, data, { mode: 0o644 });
  return { file, diffId: `sha256:${createHash('sha256').update(data).digest('hex')}`, bytes: data.length };
}

const layout = (nb: NestboxInstance) => new DataLayout(nb.dataRoot);
const blobs = (nb: NestboxInstance) => readdirSync(layout(nb).blobs).filter((n) => !n.startsWith('.')).map((n) => `sha256:${n}`);
const layerDirs = (nb: NestboxInstance) => readdirSync(layout(nb).layers);

async function importAs(t: { is: (a: unknown, b: unknown, m?: string) => void }, nb: NestboxInstance, file: string, ref?: string): Promise<string> {
  const r = await nb.cli(['import', file, ...(ref ? [ref] : [])]);
  t.is(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The blobs an image's manifest names (manifest, config, layers), read from the store. */
function blobsOf(nb: NestboxInstance, id: string): string[] {
  return new ImageStore(layout(nb)).entries().filter((e) => e.id === id).flatMap((e) => e.blobs);
}

/** Another tag for an existing image, written to the store as the service would (there is no `tag` verb yet). */
function tagInStore(nb: NestboxInstance, id: string, ref: string, created?: string): string {
  const store = new ImageStore(layout(nb));
  const entry = store.entries().find((e) => e.id === id)!;
  const config: OciImageConfig | Buffer = created ? { ...entry.config, created } : readFileSync(layout(nb).blob(id));
  const layers = entry.config.rootfs.diff_ids.map((d) => ({ digest: d, size: lstatSync(layout(nb).blob(d)).size }));
  const image = store.tag(ref, config, layers);
  if (nb.kind === 'rootless') {
    const ids = userIds(nb.user)!;
    for (const path of [join(layout(nb).images, 'index.json'), ...store.entries().flatMap((e) => e.blobs).map((b) => layout(nb).blob(b))]) chownSync(path, ids.uid, ids.gid);
  }
  return image.id;
}

const short = (id: string) => id.slice(7, 19);

each('images: docker\'s columns, sizes in docker\'s units; -q and --no-trunc', async (t, nb) => {
  const tar = imageTar(`list-${nb.kind}`);
  const id = await importAs(t, nb, tar.file, 'hk/list:1');
  const r = await nb.cli(['images']);
  t.is(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trimEnd().split('\n');
  t.regex(header, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
  const row = rows.find((l) => l.startsWith('hk/list '));
  t.truthy(row, r.stdout);
  t.regex(row!, new RegExp(`^hk/list +1 +${short(id)} +(Less than a second|\\d+ seconds?|About a minute) ago +${humanSize(tar.bytes).replace('.', '\\.')}$`));
  t.regex(humanSize(tar.bytes), /^\d+(\.\d+)?MB$/, 'a busybox layer is megabytes');
  const quiet = await nb.cli(['images', '-q']);
  t.true(quiet.stdout.split('\n').includes(short(id)), quiet.stdout);
  const full = await nb.cli(['images', '--no-trunc']);
  t.regex(full.stdout, new RegExp(`^hk/list +1 +${id} `, 'm'));
  const both = await nb.cli(['images', '-q', '--no-trunc']);
  t.true(both.stdout.split('\n').includes(id));
  const bad = await nb.cli(['images', 'extra']);
  t.is(bad.code, 125);
  t.is(bad.stderr.split('\n').length, 2, 'one line');
});

each('rmi of one tag of several untags it; the last tag deletes the image, its blobs and its layer', async (t, nb) => {
  const tar = imageTar(`tags-${nb.kind}`);
  const id = await importAs(t, nb, tar.file, 'hk/tags:a');
  tagInStore(nb, id, 'hk/tags:b');
  tagInStore(nb, id, 'localhost:5000/hk/deep/tags:v1');
  const owned = blobsOf(nb, id);
  t.true(owned.includes(tar.diffId) && layerDirs(nb).includes(tar.diffId.slice(7)));

  const first = await nb.cli(['rmi', 'hk/tags:a']);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout, 'Untagged: hk/tags:a\n');
  const second = await nb.cli(['rmi', 'localhost:5000/hk/deep/tags:v1']);
  t.is(second.stdout, 'Untagged: localhost:5000/hk/deep/tags:v1\n', second.stderr);
  t.regex((await nb.cli(['images'])).stdout, new RegExp(`^hk/tags +b +${short(id)} `, 'm'));

  const last = await nb.cli(['rmi', 'hk/tags:b']);
  t.is(last.code, 0, last.stderr);
  t.is(last.stdout, `Untagged: hk/tags:b\nDeleted: ${id}\nDeleted: ${tar.diffId}\n`);
  t.false(layerDirs(nb).includes(tar.diffId.slice(7)), 'the layer dir is gone');
  t.deepEqual(layerDirs(nb).filter((n) => n.startsWith('.')), [], 'nothing left being removed');
  t.deepEqual(blobs(nb).filter((b) => owned.includes(b)), [], 'manifest, config and layer blobs are gone');
  t.notRegex((await nb.cli(['images', '--no-trunc'])).stdout, new RegExp(id));
});

each('a layer shared by two images survives the removal of one', async (t, nb) => {
  const tar = imageTar(`shared-${nb.kind}`);
  const one = await importAs(t, nb, tar.file, 'hk/shared:1');
  const two = await importAs(t, nb, tar.file, 'hk/shared:2');
  t.not(one, two, 'two imports, two images (their configs differ by creation time)');
  const r = await nb.cli(['rmi', 'hk/shared:1']);
  t.is(r.stdout, `Untagged: hk/shared:1\nDeleted: ${one}\n`, r.stderr);
  t.true(layerDirs(nb).includes(tar.diffId.slice(7)));
  t.true(blobs(nb).includes(tar.diffId));
  t.false(blobs(nb).includes(one), 'the removed image\'s config is gone');
  const run = await nb.cli(['run', '--rm', 'hk/shared:2', 'cat', '/priv/marker']);
  t.is(run.stdout, `shared-${nb.kind}\n`, run.stderr);
  const rest = await nb.cli(['rmi', short(two)]);
  t.is(rest.stdout, `Untagged: hk/shared:2\nDeleted: ${two}\nDeleted: ${tar.diffId}\n`, rest.stderr);
  t.false(layerDirs(nb).includes(tar.diffId.slice(7)));
});

each('rmi by full id (with or without sha256:) and unique prefix; ambiguous and unknown are one line, exit 1', async (t, nb) => {
  const tar = imageTar(`ids-${nb.kind}`);
  const a = await importAs(t, nb, tar.file);
  const b = await importAs(t, nb, tar.file);
  const byHex = await nb.cli(['rmi', a.slice(7)]);
  t.is(byHex.stdout, `Deleted: ${a}\n`, byHex.stderr);
  const byId = await nb.cli(['rmi', b]);
  t.is(byId.stdout, `Deleted: ${b}\nDeleted: ${tar.diffId}\n`, byId.stderr);

  // two images whose ids share a first hex digit: configs told apart by their creation time
  const c = await importAs(t, nb, tar.file, 'hk/ids:c');
  const config = JSON.parse(readFileSync(layout(nb).blob(c), 'utf8')) as OciImageConfig;
  let created = '';
  for (let i = 0; !created; i++) {
    const candidate = new Date(Date.parse(config.created!) + i + 1).toISOString();
    if (createHash('sha256').update(JSON.stringify({ ...config, created: candidate })).digest('hex')[0] === c[7]) created = candidate;
  }
  const d = tagInStore(nb, c, 'hk/ids:d', created);
  t.not(c, d);
  const ambiguous = await nb.cli(['rmi', c.slice(7, 8)]);
  t.is(ambiguous.code, 1);
  t.is(ambiguous.stdout, '');
  t.regex(ambiguous.stderr, /^Error: image id prefix "[0-9a-f]" is ambiguous: it matches \d+ images\n$/);
  const unique = await nb.cli(['rmi', d.slice(7, 19)]);
  t.is(unique.stdout, `Untagged: hk/ids:d\nDeleted: ${d}\n`, unique.stderr);
  const both = await nb.cli(['rmi', 'hk/nope:1', 'hk/ids:c']);
  t.is(both.code, 1, 'one of them failed');
  t.is(both.stderr, 'Error: No such image: hk/nope:1\n');
  t.is(both.stdout, `Untagged: hk/ids:c\nDeleted: ${c}\nDeleted: ${tar.diffId}\n`, 'the other was removed');
  const none = await nb.cli(['rmi', 'feedface']);
  t.is(none.stderr, 'Error: No such image: feedface\n');
  const usage = await nb.cli(['rmi']);
  t.is(usage.code, 125);
  t.regex(usage.stderr, /^nestbox: "nestbox rmi" requires at least 1 argument: IMAGE\.\.\.\n$/);
});

each('rmi is refused while a container uses the image; -f untags it and it stays as <none> until the container goes', async (t, nb, kind: Kind) => {
  const tar = imageTar(`used-${kind}`);
  const id = await importAs(t, nb, tar.file, 'hk/used:1');
  const ran = await nb.cli(['run', '--name', `used-${kind}`, 'hk/used:1', 'true']);
  t.is(ran.code, 0, ran.stderr);
  const ctr = (await nb.cli(['ps', '-a', '-q', '--no-trunc'])).stdout.split('\n')[0];

  const byRef = await nb.cli(['rmi', 'hk/used:1']);
  t.is(byRef.code, 1);
  t.is(byRef.stderr, `Error: conflict: unable to remove repository reference "hk/used:1" (must force) - container ${ctr.slice(0, 12)} is using its referenced image ${short(id)}\n`);
  const byId = await nb.cli(['rmi', short(id)]);
  t.is(byId.stderr, `Error: conflict: unable to delete ${short(id)} (must be forced) - image is being used by stopped container ${ctr.slice(0, 12)}\n`);

  // a running container's image cannot be removed by id, even forced
  const sleeper = await nb.cli(['run', '-d', '--name', `sleeper-${kind}`, 'hk/used:1', 'sleep', '60']);
  t.is(sleeper.code, 0, sleeper.stderr);
  const hard = await nb.cli(['rmi', '-f', short(id)]);
  t.is(hard.stderr, `Error: conflict: unable to delete ${short(id)} (cannot be forced) - image is being used by running container ${sleeper.stdout.trim().slice(0, 12)}\n`);

  const forced = await nb.cli(['rmi', '-f', 'hk/used:1']);
  t.is(forced.code, 0, forced.stderr);
  t.is(forced.stdout, 'Untagged: hk/used:1\n');
  t.regex((await nb.cli(['images'])).stdout, new RegExp(`^<none> +<none> +${short(id)} `, 'm'));
  t.true(layerDirs(nb).includes(tar.diffId.slice(7)), 'the containers\' layer stays');
  const exported = await nb.cli(['export', '-o', join(nb.base, `used-${kind}.tar`), `used-${kind}`]);
  t.is(exported.code, 0, `its image is still there for export: ${exported.stderr}`);
  const runById = await nb.cli(['run', '--rm', short(id), 'cat', '/priv/marker']);
  t.is(runById.stdout, `used-${kind}\n`, `an untagged image runs by id: ${runById.stderr}`);
  t.is((await nb.cli(['rm', '-f', `sleeper-${kind}`, `used-${kind}`])).code, 0);
  const gone = await nb.cli(['rmi', short(id)]);
  t.is(gone.stdout, `Deleted: ${id}\nDeleted: ${tar.diffId}\n`, gone.stderr);
  t.false(layerDirs(nb).includes(tar.diffId.slice(7)));
});

each('leftovers of an interrupted extraction or removal are swept when the services start', async (t, nb, kind: Kind) => {
  t.is((await nb.cli(['system', 'stop'])).code, 0);
  const subuid = kind === 'root' ? ROOT_SUBID : ROOTLESS_SUBID;
  const mine = kind === 'root' ? { uid: 0, gid: 0 } : userIds(nb.user)!;
  const leftovers = ['.remove-0123456789ab-01234567', '.extract-AbCdEf'].map((n) => join(layout(nb).layers, n));
  for (const dir of leftovers) {
    // as a layer is on disk: its root is container root's, a private dir and file of another container user
    mkdirSync(join(dir, 'priv'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'priv', 'file'), 'x');
    for (const p of [join(dir, 'priv', 'file'), join(dir, 'priv')]) chownSync(p, subuid + 999, subuid + 999);
    chownSync(dir, kind === 'root' ? subuid : mine.uid, kind === 'root' ? subuid : mine.gid);
  }
  const r = await nb.cli(['images']);
  t.is(r.code, 0, r.stderr);
  const deadline = Date.now() + scaled(15_000);
  while (leftovers.some((d) => existsSync(d)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  t.deepEqual(leftovers.filter((d) => existsSync(d)), [], 'swept');
});
