/**
 * `nestbox import FILE [REF]`: a rootfs tar made by GNU tar from a real directory (owners,
 * setuid, symlink, hardlink) becomes a one-layer image that `run` uses; a layer already stored
 * is reused, also when two imports of the same tar run at once. Root and rootless.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DataLayout } from '../../lib/data-layout.js';
import { findStaticBusybox } from '../../services/storage/default-image.js';
import { eachInstance } from '../helpers/each-instance.js';
import { userIds } from '../helpers/host.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { rawTar } from '../helpers/raw-tar.js';

const each = eachInstance();
const work = mkdtempSync('/tmp/nbx-import-');
chmodSync(work, 0o755);
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** A small rootfs on disk, archived with `tar -C DIR -c .` (gzip when asked). */
function rootfsTar(name: string, gzip: boolean, marker: string): string {
  const dir = join(work, `${name}.d`);
  for (const d of ['bin', 'etc', 'home/user', 'tmp']) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  copyFileSync(findStaticBusybox(), join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'stat', 'readlink', 'cat', 'ls']) symlinkSync('busybox', join(dir, 'bin', applet));
  copyFileSync(findStaticBusybox(), join(dir, 'bin/suid'));
  chmodSync(join(dir, 'bin/suid'), 0o4755);
  writeFileSync(join(dir, 'home/user/notes'), `${marker}\n`);
  chownSync(join(dir, 'home/user'), 1000, 1000);
  chownSync(join(dir, 'home/user/notes'), 1000, 1000);
  chmodSync(join(dir, 'home/user/notes'), 0o640);
  writeFileSync(join(dir, 'etc/original'), 'linked\n');
  linkSync(join(dir, 'etc/original'), join(dir, 'etc/hardlink'));
  symlinkSync('/home/user/notes', join(dir, 'etc/notes'));
  linkSync(join(dir, 'etc/notes'), join(dir, 'etc/notes-too')); // a hard link to the symlink itself
  const file = join(work, name);
  execFileSync('tar', ['-C', dir, gzip ? '-czf' : '-cf', file, '.']);
  chmodSync(file, 0o644);
  rmSync(dir, { recursive: true });
  return file;
}

const gzipped = rootfsTar('rootfs.tar.gz', true, 'first');
const plain = rootfsTar('other.tar', false, 'second');

function newLayers(nb: NestboxInstance, before: string[]): string[] {
  return readdirSync(new DataLayout(nb.dataRoot).layers).filter((l) => !before.includes(l));
}

each('a gzip rootfs tar becomes an image that run sees as it was', async (t, nb) => {
  const r = await nb.cli(['import', gzipped, 'imported:1']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.is(r.stderr, '');
  const seen = await nb.cli(['run', '--rm', 'imported:1', 'sh', '-c',
    'stat -c "%u:%g %a" /home/user /home/user/notes; cat /home/user/notes; stat -c %a /bin/suid; readlink /etc/notes; cat /etc/notes; readlink /etc/notes-too; stat -c %i /etc/original /etc/hardlink; stat -c %h /etc/original']);
  t.is(seen.code, 0, seen.stderr);
  const lines = seen.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 7), ['1000:1000 755', '1000:1000 640', 'first', '4755', '/home/user/notes', 'first', '/home/user/notes']);
  t.is(lines[7], lines[8], 'the hard link shares the inode');
  t.is(lines[9], '2');
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^imported +1 +${r.stdout.slice(7, 19)} `, 'm'));
});

each('without a reference the image is untagged; the same tar again reuses its layer', async (t, nb) => {
  const layers = readdirSync(new DataLayout(nb.dataRoot).layers);
  const r = await nb.cli(['import', gzipped]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.deepEqual(newLayers(nb, layers), [], 'the layer of imported:1, reused');
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^<none> +<none> +${r.stdout.slice(7, 19)} `, 'm'));
});

each('two imports of one tar at once store its layer once', async (t, nb) => {
  const layers = readdirSync(new DataLayout(nb.dataRoot).layers);
  const [a, b] = await Promise.all([nb.cli(['import', plain, 'twice:a']), nb.cli(['import', plain, 'twice:b'])]);
  t.is(a.code, 0, a.stderr);
  t.is(b.code, 0, b.stderr);
  const added = newLayers(nb, layers);
  t.is(added.length, 1, added.join(' '));
  t.false(added[0].startsWith('.'), 'no staging directory left');
  for (const ref of ['twice:a', 'twice:b']) {
    const r = await nb.cli(['run', '--rm', ref, 'cat', '/home/user/notes']);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'second\n');
  }
  t.deepEqual(readdirSync(new DataLayout(nb.dataRoot).tmp), [], 'no temporary copy left');
  t.deepEqual(readdirSync(new DataLayout(nb.dataRoot).layers).filter((l) => l.startsWith('.')), [], 'no .extract-/.remove- dir left');
  const blobs = readdirSync(new DataLayout(nb.dataRoot).blobs);
  t.is(blobs.filter((b) => b === added[0]).length, 1, 'the layer\'s blob, once');
  t.deepEqual(blobs.filter((b) => b.startsWith('.')), [], 'no temporary blob left');
});

each('a relative path is the caller\'s, in a directory only the caller can read', async (t, nb) => {
  const ids = userIds(nb.user)!;
  const dir = join(nb.base, 'mine');
  mkdirSync(dir, { mode: 0o700 });
  copyFileSync(plain, join(dir, 'rootfs.tar'));
  chownSync(dir, ids.uid, ids.gid);
  chownSync(join(dir, 'rootfs.tar'), ids.uid, ids.gid);
  const r = await nb.cli(['import', 'rootfs.tar', 'mine:1'], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const run = await nb.cli(['run', '--rm', 'mine:1', 'cat', '/home/user/notes']);
  t.is(run.stdout, 'second\n', run.stderr);
});

each('owners beyond the containers\' id map become container root, with a warning', async (t, nb) => {
  const file = join(work, `far-${nb.kind}.tar`);
  writeFileSync(file, rawTar([
    { path: 'far', content: Buffer.from('far\n'), uid: 70000, gid: 70000 },
    { path: 'near', content: Buffer.from('near\n'), uid: 1000, gid: 1000 },
  ]), { mode: 0o644 });
  const r = await nb.cli(['import', file]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, 'nestbox: warning: 1 entry of owners this user cannot map was extracted as owned by container root\n');
});
