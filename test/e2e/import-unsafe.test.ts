/**
 * Safe extraction through `nestbox import`: each hostile tar is refused in one line naming the
 * entry (exit 125) or neutralised, nothing is written outside the layer, and a refused layer
 * leaves nothing behind (no layer, no staging directory, no image, no temporary copy). Root and
 * rootless; the keeper's user namespace is where the worker runs for both.
 */
import type { ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataLayout } from '../../lib/data-layout.js';
import { eachInstance } from '../helpers/each-instance.js';
import { userIds } from '../helpers/host.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { rawTar, type RawEntry } from '../helpers/raw-tar.js';

const each = eachInstance();

/** Writes the archive where the instance's user can read it. */
function tarFile(nb: NestboxInstance, name: string, bytes: Buffer): string {
  const dir = join(nb.base, 'tars');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, name);
  writeFileSync(file, bytes, { mode: 0o644 });
  if (nb.kind === 'rootless') {
    const ids = userIds(nb.user)!;
    chownSync(dir, ids.uid, ids.gid);
    chownSync(file, ids.uid, ids.gid);
  }
  return file;
}

/** What a refused import must not change: layers (and staging dirs), the image index, tmp. */
function storeState(nb: NestboxInstance): string {
  const layout = new DataLayout(nb.dataRoot);
  const list = (d: string) => (existsSync(d) ? readdirSync(d).sort().join(',') : '');
  const index = join(layout.images, 'index.json');
  const images = existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest) : [];
  return [list(layout.layers), images.join(','), list(layout.tmp)].join('\n');
}

async function refused(t: ExecutionContext, nb: NestboxInstance, name: string, bytes: Buffer, reason: string, env: Record<string, string> = {}): Promise<void> {
  const file = tarFile(nb, name, bytes);
  const before = storeState(nb);
  const r = await nb.cli(['import', file, `refused:${name.replace(/[^a-z0-9]/g, '')}`], { env });
  t.is(r.code, 125, r.stdout);
  t.is(r.stderr, `nestbox: import ${file}: ${reason}\n`);
  t.is(r.stdout, '');
  t.is(storeState(nb), before, 'no layer, staging dir, image or temporary copy left');
}

const sentinel = () => `/tmp/nbx-sentinel-${randomBytes(4).toString('hex')}`;

each('"../" entries are refused by name and write nothing above the layer', async (t, nb) => {
  const target = sentinel();
  const climb = `../../../../../../..${target}`;
  await refused(t, nb, 'dotdot.tar', rawTar([
    { path: 'ok', content: Buffer.from('fine\n') },
    { path: climb, content: Buffer.from('escaped\n') },
  ]), `entry "${climb}": its path leaves the layer ('..')`);
  t.false(existsSync(target));
});

each('absolute paths are extracted inside the layer', async (t, nb) => {
  const target = sentinel();
  const bytes = rawTar([{ path: target, content: Buffer.from('inside\n') }]);
  const file = tarFile(nb, 'absolute.tar', bytes);
  const r = await nb.cli(['import', file]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.false(existsSync(target));
  const layer = new DataLayout(nb.dataRoot).layer(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  t.is(readFileSync(join(layer, target), 'utf8'), 'inside\n');
});

each('a write through a symlink is refused by name', async (t, nb) => {
  const target = sentinel();
  mkdirSync(target, { mode: 0o777 });
  t.teardown(() => rmSync(target, { recursive: true, force: true }));
  statSync(target); // the link points at a directory that exists and anyone may write
  await refused(t, nb, 'symlink-write.tar', rawTar([
    { path: 'link', type: 'SymbolicLink', linkpath: target },
    { path: 'link/passwd', content: Buffer.from('root::0:0::/:/bin/sh\n') },
  ]), 'entry "link/passwd": it would be written through the symbolic link "link"');
  t.deepEqual(readdirSync(target), []);
});

each('a hard link out of the layer is refused by name', async (t, nb) => {
  const links = statSync('/etc/passwd').nlink;
  await refused(t, nb, 'hardlink-up.tar', rawTar([
    { path: 'evil', type: 'Link', linkpath: '../../../../../../../etc/passwd' },
  ]), 'entry "evil": a hard link to "../../../../../../../etc/passwd", outside the layer');
  // an absolute target means the layer's own file, which is not there
  await refused(t, nb, 'hardlink-abs.tar', rawTar([
    { path: 'evil', type: 'Link', linkpath: '/etc/passwd' },
  ]), 'entry "evil": a hard link to "/etc/passwd", which is not in the layer before it');
  // nor through a symlink of the layer
  await refused(t, nb, 'hardlink-via-symlink.tar', rawTar([
    { path: 'etc', type: 'SymbolicLink', linkpath: '/etc' },
    { path: 'evil', type: 'Link', linkpath: 'etc/passwd' },
  ]), 'entry "evil": it would be written through the symbolic link "etc"');
  t.is(statSync('/etc/passwd').nlink, links);
});

each('device nodes and FIFOs are skipped with a warning naming each', async (t, nb) => {
  const entries: RawEntry[] = [
    { path: 'dev', type: 'Directory' },
    { path: 'dev/null', type: 'CharacterDevice', mode: 0o666, devmaj: 1, devmin: 3 },
    { path: 'dev/sda', type: 'BlockDevice', mode: 0o660, devmaj: 8, devmin: 0 },
    { path: 'fifo', type: 'FIFO' },
    { path: 'kept', content: Buffer.from('kept\n') },
  ];
  const bytes = rawTar(entries);
  const r = await nb.cli(['import', tarFile(nb, 'devices.tar', bytes), 'devices:1']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, [
    'nestbox: warning: entry "dev/null": a character device, skipped (a user namespace cannot make one)',
    'nestbox: warning: entry "dev/sda": a block device, skipped (a user namespace cannot make one)',
    'nestbox: warning: entry "fifo": a FIFO, skipped (a user namespace cannot make one)',
    '',
  ].join('\n'));
  const layer = new DataLayout(nb.dataRoot).layer(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  t.deepEqual(readdirSync(layer).sort(), ['dev', 'kept']);
  t.deepEqual(readdirSync(join(layer, 'dev')), []);
});

each('a truncated archive is refused, naming the entry it ends in', async (t, nb) => {
  const whole = rawTar([
    { path: 'small', content: Buffer.from('small\n') },
    { path: 'big', content: randomBytes(8192) },
  ]);
  await refused(t, nb, 'truncated.tar', whole.subarray(0, 1024 + 512 + 3000), 'entry "big": the archive ends inside it (truncated)');
  // cut inside a header: no entry to name
  await refused(t, nb, 'truncated-header.tar', whole.subarray(0, 1024 + 200), 'the archive ends inside a header block (truncated)');
  // and a truncated gzip stream
  await refused(t, nb, 'truncated.tar.gz', gzipSync(whole).subarray(0, 600), 'the gzip stream is damaged or truncated (unexpected end of file)');
});

each('a gzip bomb stops at the size cap, which the error names', async (t, nb) => {
  const bomb = gzipSync(rawTar([{ path: 'zeros', content: Buffer.alloc(32 * 1024 * 1024) }]), { level: 9 });
  t.true(bomb.length < 100_000);
  await refused(t, nb, 'bomb.tar.gz', bomb, 'the uncompressed archive is larger than the cap of 1048576 bytes (NESTBOX_MAX_LAYER_BYTES)', { NESTBOX_MAX_LAYER_BYTES: '1m' });
  const bad = await nb.cli(['import', '/nonexistent.tar'], { env: { NESTBOX_MAX_LAYER_BYTES: 'lots' } });
  t.is(bad.code, 125);
  t.regex(bad.stderr, /^nestbox: NESTBOX_MAX_LAYER_BYTES must be .* got 'lots'\n$/);
});

each('a missing or unreadable file, or another compression, is one line naming it', async (t, nb) => {
  const missing = join(nb.base, 'no-such.tar');
  const r = await nb.cli(['import', missing]);
  t.is(r.code, 125);
  t.is(r.stderr, `nestbox: import ${missing}: no such file\n`);
  await refused(t, nb, 'layer.tar.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]), 'compressed with xz: import reads a plain or gzip-compressed tar');
  await refused(t, nb, 'double.tar.gz', gzipSync(gzipSync(rawTar([{ path: 'x' }]))), 'not a tar archive');
  await refused(t, nb, 'text.tar', Buffer.from('hello\n'.repeat(200)), 'not a tar archive');
  if (nb.kind === 'rootless') {
    const secret = join('/tmp', `nbx-secret-${randomBytes(4).toString('hex')}.tar`);
    writeFileSync(secret, rawTar([{ path: 'x' }]), { mode: 0o600 });
    t.teardown(() => rmSync(secret, { force: true }));
    const denied = await nb.cli(['import', secret]);
    t.is(denied.code, 125);
    t.is(denied.stderr, `nestbox: import ${secret}: permission denied (read as uid ${userIds(nb.user)!.uid})\n`);
  }
});
