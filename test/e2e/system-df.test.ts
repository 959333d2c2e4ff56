/**
 * `nestbox system df [-v]`: docker's table of images, containers and volumes with sizes measured
 * in the data root (apparent sizes, as docker's), including files in directories a rootless user
 * cannot read itself (measured in the keeper). Root and rootless, each on a fresh data root.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { findStaticBusybox } from '../../services/storage/default-image.js';
import { humanSize } from '../../cli/commands/units.js';
import { eachInstance, type Kind } from '../helpers/each-instance.js';
import { rawTar } from '../helpers/raw-tar.js';

const each = eachInstance();
const work = mkdtempSync('/tmp/nbx-df-');
chmodSync(work, 0o755);
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const busybox = readFileSync(findStaticBusybox());
const APPLETS = ['sh', 'head', 'mkdir', 'chown', 'chmod'];
const marker = Buffer.from('df\n');
const data = rawTar([
  { path: 'bin', type: 'Directory' },
  { path: 'bin/busybox', content: busybox, mode: 0o755 },
  ...APPLETS.map((a) => ({ path: `bin/${a}`, type: 'SymbolicLink' as const, linkpath: 'busybox' })),
  { path: 'marker', content: marker },
]);
const tarFile = join(work, 'df.tar');
writeFileSync(tarFile, data, { mode: 0o644 });
/** on disk: the blob (the tar) and the tree (files, symlinks by their target's length) */
const imageBytes = data.length + busybox.length + APPLETS.length * 'busybox'.length + marker.length;
const df = (size: number) => humanSize(size, 4);

function rows(stdout: string): Record<string, string[]> {
  const [header, ...lines] = stdout.trimEnd().split('\n');
  if (!/^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/.test(header)) throw new Error(`unexpected header: ${header}`);
  return Object.fromEntries(lines.map((l) => {
    const m = /^(Images|Containers|Local Volumes) +(\d+) +(\d+) +(\S+) +(.+)$/.exec(l);
    if (!m) throw new Error(`unexpected row: ${l}`);
    return [m[1], m.slice(2)];
  }));
}

each('system df: images, containers and volumes, with what removing the unused would free', async (t, nb, kind: Kind) => {
  const empty = await nb.cli(['system', 'df']);
  t.is(empty.code, 0, empty.stderr);
  t.deepEqual(rows(empty.stdout), { Images: ['0', '0', '0B', '0B'], Containers: ['0', '0', '0B', '0B'], 'Local Volumes': ['0', '0', '0B', '0B'] });

  const imported = await nb.cli(['import', tarFile, 'hk/df:1']);
  t.is(imported.code, 0, imported.stderr);
  // the container writes 200000 bytes into a directory only its uid 1000 may enter, 300000 into a volume
  const ran = await nb.cli(['run', '--name', `df-${kind}`, '-v', 'dfvol:/vol', 'hk/df:1', 'sh', '-c',
    'mkdir /private && head -c 200000 /dev/zero > /private/big && chown -R 1000:1000 /private && chmod 700 /private && head -c 300000 /dev/zero > /vol/data']);
  t.is(ran.code, 0, ran.stderr);
  const unused = await nb.cli(['volume', 'create', 'spare']);
  t.is(unused.code, 0, unused.stderr);

  const used = await nb.cli(['system', 'df']);
  t.is(used.code, 0, used.stderr);
  t.deepEqual(rows(used.stdout), {
    Images: ['1', '1', df(imageBytes), '0B (0%)'],
    Containers: ['1', '0', '200kB', '200kB (100%)'],
    'Local Volumes': ['2', '1', '300kB', '0B (0%)'],
  });

  const verbose = await nb.cli(['system', 'df', '-v']);
  t.is(verbose.code, 0, verbose.stderr);
  t.regex(verbose.stdout, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
  t.regex(verbose.stdout, new RegExp(`^hk/df +1 +[0-9a-f]{12} +.+ ago +${df(imageBytes).replace('.', '\\.')} +0B +${df(imageBytes).replace('.', '\\.')} +1$`, 'm'));
  t.regex(verbose.stdout, new RegExp(`^[0-9a-f]{12} +hk/df:1 +"sh -c mkdir /privat…" +1 +200kB +.+ ago +Exited \\(0\\) +df-${kind}$`, 'm'));
  t.regex(verbose.stdout, /^dfvol +1 +300kB$/m);
  t.regex(verbose.stdout, /^spare +0 +0B$/m);

  t.is((await nb.cli(['rm', `df-${kind}`])).code, 0);
  const after = await nb.cli(['system', 'df']);
  t.deepEqual(rows(after.stdout), {
    Images: ['1', '0', df(imageBytes), `${df(imageBytes)} (100%)`],
    Containers: ['0', '0', '0B', '0B'],
    'Local Volumes': ['2', '0', '300kB', '300kB (100%)'],
  });
});
