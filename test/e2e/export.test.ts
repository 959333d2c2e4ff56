/**
 * `nestbox export` end to end, as root and rootless (and on the fuse driver, as kernels < 5.11
 * would use it): a container creates a file owned by 1000:1000, changes a mode, deletes files of
 * the image, makes a symlink and a hardlink; its export while running and after it stopped is
 * the view from inside: deleted paths absent (an opaque dir hides the image's), no `.wh.` entries,
 * owners as inside, modes, mtimes, link targets, the hardlink. Bad input is one line and 125 with no file left; no mount, no temp file.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { chownSync, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { isRoot, rootlessUnavailable, unstage, userIds } from '../helpers/host.js';
import { eachInstance } from '../helpers/each-instance.js';
import { NestboxInstance } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';

const each = eachInstance();
const outDirs: string[] = [];
test.after.always(() => outDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const SCRIPT = [
  'echo owned > /owned', 'chown 1000:1000 /owned', 'chmod 0640 /owned',
  'chmod 0700 /etc/group', // a mode changed on a file of the image
  'rm /bin/ls', 'rm -r /home', // deleted from the image: a whiteout in the upper dir
  'echo gone > /made; rm /made',
  'rm -r /var; mkdir /var; echo new > /var/new', // an opaque dir in the upper dir
  'ln -s /owned /link', 'ln /owned /hard',
  'touch /ready',
].join('; ');

interface Entry { type: string; uid?: number; gid?: number; mode?: number; linkpath?: string; mtime?: Date }

function listTar(file: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  tar.t({ file, sync: true, onReadEntry: (e) => entries.set(e.path.replace(/\/$/, ''), { type: e.type, uid: e.uid, gid: e.gid, mode: e.mode, linkpath: e.linkpath, mtime: e.mtime }) });
  return entries;
}

function outDir(nb: NestboxInstance): string {
  const dir = mkdtempSync('/tmp/nbx-export-out-');
  const ids = userIds(nb.user)!;
  chownSync(dir, ids.uid, ids.gid);
  outDirs.push(dir);
  return dir;
}

function assertView(t: ExecutionContext, file: string, when: string): void {
  const e = listTar(file);
  t.true(e.size > 100, `${when}: a whole root file system (${e.size} entries)`);
  t.false(e.has('bin/ls'), `${when}: /bin/ls was deleted`);
  t.false(e.has('home'), `${when}: /home was deleted`);
  t.false(e.has('made'), `${when}: /made was deleted`);
  t.deepEqual([...e.keys()].filter((p) => p.includes('.wh.') || p.startsWith('./') || p.startsWith('/')), [], `${when}: no whiteout entries, relative names`);
  t.deepEqual([...e.keys()].filter((p) => p.startsWith('var/')), ['var/new'], `${when}: the recreated dir hides the image's`);
  t.like(e.get('bin/sh'), { type: 'SymbolicLink', linkpath: 'busybox' }, `${when}: image symlink kept`);
  const owned = e.get('owned');
  const hard = e.get('hard');
  t.like(e.get('link'), { type: 'SymbolicLink', linkpath: '/owned' }, when);
  // one of the two names carries the data, the other is a hardlink to it
  const [file1, link] = owned?.type === 'File' ? [owned, hard] : [hard, owned];
  t.like(file1, { type: 'File', uid: 1000, gid: 1000 }, `${when}: owner as inside`);
  t.is((file1?.mode ?? 0) & 0o7777, 0o640, `${when}: mode`);
  t.like(link, { type: 'Link', uid: 1000, gid: 1000 }, `${when}: hardlink`);
  t.true(link?.linkpath === 'owned' || link?.linkpath === 'hard', `${when}: hardlink target ${link?.linkpath}`);
  t.is((e.get('etc/group')?.mode ?? 0) & 0o7777, 0o700, `${when}: changed mode`);
  t.like(e.get('etc/passwd'), { type: 'File', uid: 0, gid: 0 }, when);
  t.is(e.get('etc/passwd')?.mtime?.getTime(), Date.UTC(2024, 0, 1), `${when}: the image's mtime`);
  t.true(Math.abs((file1?.mtime?.getTime() ?? 0) - Date.now()) < 10 * 60_000, `${when}: the new file's mtime`);
}

/** Runs `nestbox export NAME` with stdout into FILE; resolves with the exit code and stderr. */
function exportToStdout(nb: NestboxInstance, name: string, file: string): Promise<{ code: number | null; stderr: string }> {
  const [cmd, argv, env] = nb.command(['export', name]);
  const fd = openSync(file, 'w', 0o644);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), scaled(60_000));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function fuseZombies(): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return stat.includes('(fuse-overlayfs) Z');
    } catch {
      return false;
    }
  }).map(Number);
}

/** Nothing of an export left: no mount of the instance on the host or in its keeper, no temp file. */
function assertClean(t: ExecutionContext, nb: NestboxInstance, dir: string, files: string[]): void {
  const mine = (text: string) => text.split('\n').filter((l) => l.includes(nb.base));
  t.deepEqual(mine(readFileSync('/proc/self/mountinfo', 'utf8')), [], 'no mount on the host');
  const keeper = nb.keeper();
  if (keeper) t.deepEqual(mine(readFileSync(`/proc/${keeper.pid}/mountinfo`, 'utf8')), [], 'no mount in the keeper');
  t.deepEqual(fuseZombies(), [], 'no fuse-overlayfs left unreaped');
  t.deepEqual(readdirSync(dir).sort(), [...files].sort(), 'only the exported files');
  t.deepEqual(readdirSync('/tmp').filter((f) => f.startsWith('nestbox-export-')), [], 'no FIFO directory left');
  t.deepEqual(readdirSync(join(nb.dataRoot, 'tmp')).filter((f) => !f.startsWith('.overlay-probe')), [], 'data root tmp empty');
}

async function exportScenario(t: ExecutionContext, nb: NestboxInstance, name: string): Promise<void> {
  const dir = outDir(nb);
  const run = await nb.cli(['run', '-d', '--name', name, 'busybox', 'sh', '-c', `${SCRIPT}; exec sleep 300`]);
  t.is(run.code, 0, run.stderr);
  await nb.untilExec(name, ['cat', '/ready']);

  const running = join(dir, 'running.tar');
  const r1 = await nb.cli(['export', '-o', running, name]);
  t.is(r1.code, 0, r1.stderr);
  assertView(t, running, 'running');
  t.is((await nb.cli(['exec', name, 'cat', '/owned'])).stdout, 'owned\n', 'the container is undisturbed');

  t.is((await nb.cli(['stop', '-t', '0', name])).code, 0);
  const stopped = join(dir, 'stopped.tar');
  const r2 = await exportToStdout(nb, name, stopped);
  t.is(r2.code, 0, r2.stderr);
  assertView(t, stopped, 'stopped (stdout)');

  assertClean(t, nb, dir, ['running.tar', 'stopped.tar']);
  t.is((await nb.cli(['rm', name])).code, 0);
}

each('export while running and after stop: the view from inside', async (t, nb) => {
  await exportScenario(t, nb, 'exp-kernel');
});

each('export of a container whose command never ran is the image', async (t, nb) => {
  const dir = outDir(nb);
  // a container whose run failed before its command: created, with an empty upper dir
  const run = await nb.cli(['run', '--name', 'exp-created', 'busybox', '/no/such/command']);
  t.not(run.code, 0);
  const file = join(dir, 'created.tar');
  const r = await nb.cli(['export', '-o', file, 'exp-created']);
  t.is(r.code, 0, r.stderr);
  const e = listTar(file);
  t.like(e.get('bin/ls'), { type: 'SymbolicLink', linkpath: 'busybox' });
  t.true(e.has('home') && e.has('var/www') && e.has('var/spool'), 'what the other test deletes is in the image');
  assertClean(t, nb, dir, ['created.tar']);
  await nb.cli(['rm', '-f', 'exp-created']);
});

each('bad input: one line, 125, no file left', async (t, nb) => {
  const dir = outDir(nb);
  const none = await nb.cli(['export', '-o', join(dir, 'x.tar'), 'exp-no-such']);
  t.is(none.code, 125);
  t.is(none.stderr, 'nestbox: no such container: exp-no-such\n');
  const missing = await nb.cli(['export', '-o', join(dir, 'no/such/x.tar'), 'exp-no-such']);
  t.is(missing.code, 125);
  t.regex(missing.stderr, /^nestbox: export: cannot write .*no\/such\/x\.tar: no such directory .*\n$/);
  const args = await nb.cli(['export']);
  t.is(args.code, 125);
  t.is(args.stderr, 'nestbox: "nestbox export" requires exactly 1 argument: CONTAINER\n');
  assertClean(t, nb, dir, []);
});

// The fuse driver: what the probe picks on kernels < 5.11 (forced here)
const fuse: NestboxInstance[] = [];
test.after.always(async () => {
  await Promise.all(fuse.map((i) => i.stop()));
  unstage();
});
for (const kind of ['root', 'rootless'] as const) {
  const why = kind === 'root' ? (isRoot ? undefined : 'needs root') : rootlessUnavailable();
  const title = `${kind}: export on the fuse overlay driver`;
  if (why) test.skip(`${title} (skipped: ${why})`, () => undefined);
  else {
    test.serial(title, async (t) => {
      const env = { NESTBOX_OVERLAY_DRIVER: 'fuse' };
      const nb = kind === 'root' ? NestboxInstance.root(env) : NestboxInstance.rootless(env);
      fuse.push(nb);
      await exportScenario(t, nb, 'exp-fuse');
    });
  }
}
