/**
 * Layer fidelity on extraction, as root and rootless, on the kernel and the fuse overlay driver:
 * a layer's `.wh.NAME` entry hides NAME of the layers below and `.wh..wh..opq` hides a whole
 * directory of theirs, with no `.wh.` file in the extracted layer; PAX SCHILY.xattr attributes
 * are set byte for byte where the kernel allows (user.*, security.capability), and each kind it
 * refuses (trusted.*), or that is overlay's own, is one warning line of the import.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import { nativeBin } from '../../lib/paths.js';
import { eachDriverInstance } from '../helpers/each-instance.js';
import { addLayeredImage } from '../helpers/images.js';
import { NestboxInstance } from '../helpers/nestbox.js';
import { paxTar } from '../helpers/pax-tar.js';

const work = mkdtempSync('/tmp/nbx-fidelity-');
chmodSync(work, 0o755);
const each = eachDriverInstance();
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** Every path under `dir` (relative). */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix + e.name;
    return e.isDirectory() ? [rel, ...walk(join(dir, e.name), `${rel}/`)] : [rel];
  });
}

/** The xattrs of a layer dir as the host sees them: path -> name -> hex. */
function layerXattrs(dir: string): Map<string, Map<string, string>> {
  const out = execFileSync(nativeBin('nestbox-runtime'), ['layer', 'xattrs', '--dir', dir]).toString().split('\0');
  const found = new Map<string, Map<string, string>>();
  for (let i = 0; i + 2 < out.length; i += 3) {
    if (!found.has(out[i])) found.set(out[i], new Map());
    found.get(out[i])!.set(out[i + 1], out[i + 2]);
  }
  return found;
}

// capability set v2 (VFS_CAP_REVISION_2), effective, permitted cap_net_raw (13) and cap_setuid (7: a byte >= 0x80)
const CAP = Buffer.from('0100000280200000000000000000000000000000', 'hex');
const USER_VALUE = Buffer.from([0xff, 0x00, 0x0a, 0x41, 0x80]);

async function whiteoutScenario(t: ExecutionContext, nb: NestboxInstance, ref: string): Promise<void> {
  const first = await nb.cli(['run', '--rm', 'busybox', 'true']);
  t.is(first.code, 0, first.stderr);
  const diffId = addLayeredImage(nb, ref, [
    { type: 'file', path: 'bin/.wh.ls', mode: 0o644, content: Buffer.alloc(0) },
    { type: 'dir', path: 'etc', mode: 0o751 },
    { type: 'file', path: 'etc/.wh..wh..opq', mode: 0o644, content: Buffer.alloc(0) },
    { type: 'file', path: 'etc/only', mode: 0o644, content: Buffer.from('only\n') },
    { type: 'file', path: '.wh.nothing-below', mode: 0o644, content: Buffer.alloc(0) },
  ]);
  const seen = await nb.cli(['run', '--rm', ref, 'sh', '-c', 'test -e /bin/ls && echo ls-there; ls -A /etc | grep -vx -e hostname -e hosts -e resolv.conf; stat -c %a /etc; cat /etc/only; ls -A / | grep -c wh']);
  t.is(seen.stderr, '');
  t.deepEqual(seen.stdout.trim().split('\n'), ['only', '751', 'only', '0'], 'ls whited out, /etc only the layer\'s (and the files run mounts there)');
  const layer = new DataLayout(nb.dataRoot).layer(diffId);
  t.deepEqual(walk(layer).filter((p) => p.includes('.wh.')), [], 'no .wh. file in the layer dir');
  const ls = lstatSync(join(layer, 'bin/ls'));
  t.true(ls.isCharacterDevice() && ls.rdev === 0, 'the whiteout is a char device 0/0');
  t.is(layerXattrs(layer).get('etc')?.get('user.overlay.opaque'), Buffer.from('y').toString('hex'));
}

async function xattrScenario(t: ExecutionContext, nb: NestboxInstance, ref: string): Promise<void> {
  const file = join(work, `${ref.replace(/\W/g, '-')}.tar`);
  writeFileSync(file, paxTar([
    { path: 'data', type: 'Directory', xattrs: { 'user.dir': Buffer.from('on a dir') } },
    { path: 'data/x', content: Buffer.from('x\n'), mode: 0o755, xattrs: { 'user.test': USER_VALUE, 'security.capability': CAP, 'trusted.nbx': Buffer.from('y') } },
    { path: 'data/y', content: Buffer.from('y\n'), xattrs: { 'trusted.nbx': Buffer.from('z'), 'user.overlay.opaque': Buffer.from('y') } },
  ]));
  chmodSync(file, 0o644);
  const r = await nb.cli(['import', file, ref]);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stderr.trim().split('\n').sort(), [
    'nestbox: warning: xattr trusted.nbx of 2 entries: refused by the kernel (Operation not permitted), skipped',
    'nestbox: warning: xattr user.overlay.opaque of 1 entry: overlay\'s own, skipped',
  ]);
  const diffId = `sha256:${execFileSync('sha256sum', [file]).toString().split(' ')[0]}`;
  const attrs = layerXattrs(new DataLayout(nb.dataRoot).layer(diffId));
  t.is(attrs.get('data/x')?.get('user.test'), USER_VALUE.toString('hex'), 'binary user.* value byte for byte');
  t.is(attrs.get('data')?.get('user.dir'), Buffer.from('on a dir').toString('hex'));
  // seen from the host, the capability is namespaced (v3, the keeper root's host uid appended)
  const cap = attrs.get('data/x')?.get('security.capability');
  t.truthy(cap, 'security.capability set');
  t.is(cap!.slice(8, 40), CAP.toString('hex').slice(8, 40), 'the same capability sets');
  t.false(attrs.get('data/y')?.has('user.overlay.opaque') ?? false);
}

each('whiteouts and opaque dirs of a layer hide the layers below; xattrs are kept', async (t, nb, _kind, driver) => {
  await whiteoutScenario(t, nb, `wh-${driver}`);
  await xattrScenario(t, nb, `xattr-${driver}`);
});
