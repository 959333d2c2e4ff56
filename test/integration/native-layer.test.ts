/**
 * `nestbox-runtime layer apply|xattrs` on the real kernel, in a user namespace as the storage
 * workers run it (as root and as the unprivileged test user): the whiteout device 0/0 a user
 * namespace may make (Linux >= 5.8), the opaque xattr, user.* attributes set and read back byte
 * for byte, trusted.* refused in a report line, and paths through a symlink or out of the layer
 * refused. Kernel-sensitive, so it is in the kernel matrix's quick subset.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_USER, isRoot, projectRoot, rootlessUnavailable, runAsUser, stageProject, unstage, userIds } from '../helpers/host.js';

type Mode = 'root' | 'rootless';
const skipWhy: Record<Mode, string | undefined> = { root: isRoot ? undefined : 'needs root', rootless: rootlessUnavailable() };
const dirs: string[] = [];

test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  unstage();
});

/** A layer dir owned by whoever runs the namespace: root, or the test user. */
function layerDir(mode: Mode): string {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-layer-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'etc'));
  mkdirSync(join(dir, 'var'));
  writeFileSync(join(dir, 'etc', 'conf'), 'x');
  symlinkSync('/etc', join(dir, 'link'));
  if (mode === 'rootless') {
    const ids = userIds(TEST_USER)!;
    for (const p of ['', 'etc', 'var', 'etc/conf']) chownSync(join(dir, p), ids.uid, ids.gid);
    spawnSync('chown', ['-h', `${ids.uid}:${ids.gid}`, join(dir, 'link')]);
  }
  return dir;
}

/** `layer VERB --dir DIR` as uid 0 of a new user namespace (unshare -r), records on stdin. */
function layer(mode: Mode, verb: 'apply' | 'xattrs', dir: string, records: string[][] = []): SpawnSyncReturns<Buffer> {
  const input = Buffer.from(records.map((r) => r.map((f) => `${f}\0`).join('')).join(''));
  if (mode === 'root') {
    const runtime = join(projectRoot(), 'native', 'build', 'nestbox-runtime');
    return spawnSync('unshare', ['--user', '--map-root-user', runtime, 'layer', verb, '--dir', dir], { input });
  }
  const runtime = join(stageProject(), 'native', 'build', 'nestbox-runtime');
  return runAsUser('unshare', ['--user', '--map-root-user', runtime, 'layer', verb, '--dir', dir], {}, { input, encoding: 'buffer' }) as SpawnSyncReturns<Buffer>;
}

const hex = (s: string) => Buffer.from(s).toString('hex');

/** `layer xattrs` output as "PATH NAME HEX" triples */
function listed(out: Buffer): string[] {
  const fields = out.toString('utf8').split('\0').slice(0, -1);
  const triples: string[] = [];
  for (let i = 0; i + 2 < fields.length; i += 3) triples.push(`${fields[i]} ${fields[i + 1]} ${fields[i + 2]}`);
  return triples;
}

function ok(t: ExecutionContext, r: SpawnSyncReturns<Buffer>): void {
  t.is(r.status, 0, `${r.stderr?.toString()}`);
}

for (const mode of ['root', 'rootless'] as const) {
  const skip = skipWhy[mode];
  const title = (s: string) => `${mode}: ${s}${skip ? ` (skipped: ${skip})` : ''}`;
  const t0 = skip ? test.skip : test;

  t0(title('whiteouts are char 0/0, opaque dirs and user.* xattrs are set and read back, trusted.* is reported'), (t) => {
    const dir = layerDir(mode);
    const r = layer(mode, 'apply', dir, [
      ['w', 'etc/gone'],
      ['o', 'var'],
      ['x', 'etc/conf', 'user.bin', '00ff0a'],
      ['x', 'etc/conf', 'trusted.nbx', hex('t')],
    ]);
    ok(t, r);
    const wh = lstatSync(join(dir, 'etc', 'gone'));
    t.true(wh.isCharacterDevice(), 'a whiteout is a character device');
    t.is(wh.rdev, 0, 'device 0/0');
    t.regex(r.stdout.toString(), /^refused trusted\.nbx\tetc\/conf\t/m, 'the refused attribute is reported, not dropped');

    const x = layer(mode, 'xattrs', dir);
    ok(t, x);
    const attrs = listed(x.stdout);
    t.true(attrs.includes(`var user.overlay.opaque ${hex('y')}`), attrs.join('\n'));
    t.true(attrs.includes('etc/conf user.bin 00ff0a'), attrs.join('\n'));
    t.false(attrs.some((a) => a.includes('trusted.nbx')));
  });

  t0(title('a path through a symlink or out of the layer is refused in one line, nothing made'), (t) => {
    const dir = layerDir(mode);
    for (const path of ['link/passwd', '../outside', '/etc/passwd']) {
      const r = layer(mode, 'apply', dir, [['w', path]]);
      t.not(r.status, 0, path);
      const said = r.stderr.toString().trim();
      t.is(said.split('\n').length, 1, said);
      t.true(said.includes(path), said);
    }
    t.throws(() => lstatSync(join(dir, '..', 'outside')));
  });
}
