/**
 * `nestbox commit` end to end, as root and rootless, on the kernel and the fuse overlay driver: a
 * container creates, modifies and deletes files of its image and replaces a whole directory; its
 * commit (running, and stopped) is an image whose containers see the new and changed files, not
 * the deleted one, and only the new file in the replaced directory. The committed layer's tar
 * (read from the blob) has the `.wh.` entries, owners as inside, modes with set-id bits, links;
 * the config keeps the parent's and adds author, comment, container and history. Extended
 * attributes go round: PAX tar -> layer -> copy-up in a container -> committed tar -> layer.
 * An unknown container and a bad reference are one line each.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { DataLayout } from '../../lib/data-layout.js';
import { nativeBin } from '../../lib/paths.js';
import { findStaticBusybox } from '../../services/storage/default-image.js';
import { ImageStore, type OciImageConfig } from '../../services/storage/image-store.js';
import { paxXattrs } from '../../services/storage/tar-xattrs.js';
import { eachDriverInstance } from '../helpers/each-instance.js';
import { NestboxInstance } from '../helpers/nestbox.js';
import { paxTar } from '../helpers/pax-tar.js';

const work = mkdtempSync('/tmp/nbx-commit-');
chmodSync(work, 0o755);
const each = eachDriverInstance();
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const SCRIPT = [
  'echo new > /new', 'chown 1000:1000 /new', 'chmod 0640 /new', // created
  'echo extra >> /etc/passwd', // changed
  'rm /bin/ls', // deleted: a whiteout
  'rm -rf /var; mkdir /var; echo only > /var/only', // replaced: an opaque dir
  'echo s > /suid; chmod 4755 /suid',
  'ln -s /new /link', 'ln /new /hard',
  'touch /ready',
].join('; ');

interface Entry { type: string; uid: number; gid: number; mode: number; linkpath?: string; xattrs: Map<string, Buffer> }

/** A layer tar's entries, with their PAX xattrs byte for byte. */
function listLayer(file: string): Map<string, Entry> {
  const data = readFileSync(file);
  const entries = new Map<string, Entry>();
  let xattrs = new Map<string, Buffer>();
  let path: string | undefined;
  for (let at = 0; at + 512 <= data.length;) {
    const h = new tar.Header(data, at);
    if (h.nullBlock) break;
    const size = h.size ?? 0;
    const body = data.subarray(at + 512, at + 512 + size);
    if (h.type === 'ExtendedHeader') {
      xattrs = paxXattrs(body);
      path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString())?.[1];
    } else {
      entries.set((path ?? h.path!).replace(/\/$/, ''), { type: h.type!, uid: h.uid!, gid: h.gid!, mode: h.mode!, linkpath: h.linkpath, xattrs });
      xattrs = new Map();
      path = undefined;
    }
    at += 512 + 512 * Math.ceil(size / 512);
  }
  return entries;
}

function image(nb: NestboxInstance, ref: string): { config: OciImageConfig; layerBlob: string; layerDir: string } {
  const layout = new DataLayout(nb.dataRoot);
  const found = new ImageStore(layout).find(ref);
  if (!found) throw new Error(`no image ${ref}`);
  const top = found.config.rootfs.diff_ids.at(-1)!;
  return { config: found.config, layerBlob: layout.blob(top), layerDir: layout.layer(top) };
}

async function assertCommitted(t: ExecutionContext, nb: NestboxInstance, ref: string, when: string): Promise<void> {
  const seen = await nb.cli(['run', '--rm', ref, 'sh', '-c',
    'cat /new; stat -c "%u:%g %a" /new; tail -n 1 /etc/passwd; test -e /bin/ls && echo ls-is-there; ls -A /var; stat -c %a /suid; readlink /link; stat -c %i /new /hard']);
  t.is(seen.code, 0, `${when}: ${seen.stderr}`);
  const lines = seen.stdout.trim().split('\n');
  t.deepEqual(lines.slice(0, 6), ['new', '1000:1000 640', 'extra', 'only', '4755', '/new'], `${when}: the container's changes`);
  t.is(lines[6], lines[7], `${when}: the hard link shares the inode`);

  const { config, layerBlob } = image(nb, ref);
  const e = listLayer(layerBlob);
  t.like(e.get('bin/.wh.ls'), { type: 'File' }, `${when}: the deleted file is a whiteout entry`);
  t.false(e.has('bin/ls'), when);
  t.like(e.get('var/.wh..wh..opq'), { type: 'File' }, `${when}: the replaced dir is opaque`);
  t.deepEqual([...e.keys()].filter((p) => p.startsWith('var/')).sort(), ['var/.wh..wh..opq', 'var/only'], when);
  t.like(e.get('new'), { uid: 1000, gid: 1000 }, `${when}: owner as inside`);
  t.is((e.get('suid')?.mode ?? 0) & 0o7777, 0o4755, `${when}: set-uid bit`);
  t.like(e.get('link'), { type: 'SymbolicLink', linkpath: '/new' }, when);
  t.true(e.get('hard')?.type === 'Link' || e.get('new')?.type === 'Link', `${when}: one hard link entry`);
  t.true(e.has('etc/passwd'), `${when}: the changed file`);
  t.deepEqual([...e.keys()].filter((p) => p.startsWith('etc/') && p !== 'etc/passwd'), [], `${when}: no file run mounts in /etc`);
  t.is(config.author, 'Nest Box <nb@example.org>');
  t.is(config.comment, `commit ${when}`);
  t.regex(config.container ?? '', /^[0-9a-f]{64}$/);
  t.like(config.history?.at(-1), { created_by: `sh -c ${SCRIPT}; exec sleep 300`, author: 'Nest Box <nb@example.org>', comment: `commit ${when}` });
  t.deepEqual(config.config, image(nb, 'busybox').config.config, `${when}: the parent's run config`);
}

async function commitScenario(t: ExecutionContext, nb: NestboxInstance, name: string): Promise<void> {
  const run = await nb.cli(['run', '-d', '--name', name, 'busybox', 'sh', '-c', `${SCRIPT}; exec sleep 300`]);
  t.is(run.code, 0, run.stderr);
  await nb.untilExec(name, ['cat', '/ready']);

  const running = await nb.cli(['commit', '-a', 'Nest Box <nb@example.org>', '-m', 'commit running', name, `${name}:running`]);
  t.is(running.code, 0, running.stderr);
  t.regex(running.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.is(running.stderr, '');
  t.is((await nb.cli(['exec', name, 'cat', '/new'])).stdout, 'new\n', 'the container runs on');
  await assertCommitted(t, nb, `${name}:running`, 'running');

  t.is((await nb.cli(['stop', '-t', '0', name])).code, 0);
  const stopped = await nb.cli(['commit', '--author', 'Nest Box <nb@example.org>', '--message', 'commit stopped', name, `${name}:stopped`]);
  t.is(stopped.code, 0, stopped.stderr);
  await assertCommitted(t, nb, `${name}:stopped`, 'stopped');

  const untagged = await nb.cli(['commit', name]);
  t.is(untagged.code, 0, untagged.stderr);
  t.regex((await nb.cli(['images'])).stdout, new RegExp(`^<none> +<none> +${untagged.stdout.slice(7, 19)} `, 'm'));
  t.is((await nb.cli(['rm', name])).code, 0);
  t.deepEqual(readdirSync(join(nb.dataRoot, 'tmp')).filter((f) => f.startsWith('commit-')), [], 'no temporary tar left');
}

// capability set v2, effective, permitted cap_net_raw and cap_setuid
const CAP = Buffer.from('0100000280200000000000000000000000000000', 'hex');
const VALUE = Buffer.from([0xff, 0x00, 0x0a, 0x41, 0x80]);

async function xattrRoundTrip(t: ExecutionContext, nb: NestboxInstance, ref: string): Promise<void> {
  const file = join(work, `${ref.replace(/\W/g, '-')}.tar`);
  const busybox = join(work, 'busybox');
  copyFileSync(findStaticBusybox(), busybox);
  writeFileSync(file, paxTar([
    { path: 'bin', type: 'Directory' },
    { path: 'bin/busybox', content: readFileSync(busybox), mode: 0o755 },
    { path: 'bin/sh', type: 'SymbolicLink', linkpath: 'busybox' },
    { path: 'bin/touch', type: 'SymbolicLink', linkpath: 'busybox' },
    { path: 'data', type: 'Directory' },
    { path: 'data/x', content: Buffer.from('x\n'), xattrs: { 'user.test': VALUE, 'security.capability': CAP } },
  ]));
  chmodSync(file, 0o644);
  const imported = await nb.cli(['import', file, ref]);
  t.is(imported.code, 0, imported.stderr);
  const name = `${ref.replace(/\W/g, '-')}-c`;
  const run = await nb.cli(['run', '--name', name, ref, '/bin/touch', '/data/x']); // copy-up keeps the xattrs (a write would drop the capability, as the kernel does)
  t.is(run.code, 0, run.stderr);
  const committed = await nb.cli(['commit', name, `${ref}-committed`]);
  t.is(committed.code, 0, committed.stderr);
  const { layerBlob, layerDir } = image(nb, `${ref}-committed`);
  const x = listLayer(layerBlob).get('data/x');
  t.deepEqual(x?.xattrs.get('user.test'), VALUE, 'the committed tar has the user.* xattr byte for byte');
  t.deepEqual(x?.xattrs.get('security.capability'), CAP, 'and the capability as the container sees it (v2)');
  t.false([...(x?.xattrs.keys() ?? [])].some((n) => n.includes('overlay')), 'no overlay xattr');
  const onHost = execFileSync(nativeBin('nestbox-runtime'), ['layer', 'xattrs', '--dir', layerDir]).toString().split('\0');
  const i = onHost.findIndex((v, k) => k % 3 === 1 && v === 'user.test' && onHost[k - 1] === 'data/x');
  t.is(onHost[i + 1], VALUE.toString('hex'), 'the committed layer dir has it again');
  t.is((await nb.cli(['rm', name])).code, 0);
}

each('commit of a running and a stopped container; xattrs round trip', async (t, nb, _kind, driver) => {
  await commitScenario(t, nb, `cm-${driver}`);
  await xattrRoundTrip(t, nb, `xr-${driver}`);
  if (driver === 'kernel') {
    const unknown = await nb.cli(['commit', 'no-such-container', 'x:1']);
    t.is(unknown.code, 125);
    t.is(unknown.stderr, 'nestbox: no such container: no-such-container\n');
    const bad = await nb.cli(['commit', 'whatever', 'Bad:REF']);
    t.is(bad.code, 125);
    t.is(bad.stderr, 'nestbox: commit: invalid reference format "Bad:REF": a lower-case name, like name or name:tag\n');
    const digest = await nb.cli(['commit', 'whatever', `x@sha256:${'0'.repeat(64)}`]);
    t.is(digest.code, 125);
    t.regex(digest.stderr, /^nestbox: commit: refusing to create a tag with a digest reference: x@sha256:0+\n$/);
  }
});
