/**
 * As root the extraction worker runs as root's first subordinate uid: a project under a private
 * directory (a checkout in /root) is unreadable to it, so root stages a copy (worker-stage.ts).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXTRACT_WORKER } from '../../services/storage/keeper-extract.js';
import { stagedTools } from '../../services/storage/keeper-run.js';
import { nativeBin } from '../../lib/paths.js';
import { stageWorker } from '../../services/storage/worker-stage.js';
import { hostIdMaps } from '../../services/namespace/id-maps.js';
import { isRoot } from '../helpers/host.js';

const rootOnly = isRoot ? test : test.skip;

rootOnly('root: a staged worker loads with its packages as container root, from a directory only it may traverse', (t) => {
  const base = mkdtempSync('/tmp/nbx-stage-');
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  chmodSync(base, 0o711);
  const workerRoot = join(base, 'worker');
  const staged = stageWorker(workerRoot, EXTRACT_WORKER);
  t.not(staged, EXTRACT_WORKER);
  t.true(staged.startsWith(`${workerRoot}/`));
  t.true(existsSync(join(dirname(staged), 'node_modules', 'tar', 'package.json')));
  t.is(statSync(workerRoot).mode & 0o777, 0o711);
  // the same content is staged once
  t.is(stageWorker(workerRoot, EXTRACT_WORKER), staged);
  t.deepEqual(readdirSync(workerRoot), [staged.split('/').at(-2)]);

  const { rootUid, rootGid } = hostIdMaps();
  const asContainerRoot = (script: string) => spawnSync('setpriv', [
    '--reuid', String(rootUid), '--regid', String(rootGid), '--clear-groups', '--', process.execPath, script,
  ], { encoding: 'utf8', cwd: '/', input: '' });
  // without --dir the worker stops at its first check: tar and the rest were imported by then
  const r = asContainerRoot(staged);
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /--dir DIR is required/);
});

rootOnly('root: the modules of its own directory and the runtime are staged beside the worker, runnable by container root', (t) => {
  const base = mkdtempSync('/tmp/nbx-stage-');
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  chmodSync(base, 0o711);
  const tools = stagedTools(join(base, 'worker'), EXTRACT_WORKER, nativeBin('nestbox-runtime'));
  t.is(dirname(tools.runtime), dirname(tools.worker));
  for (const m of ['layer-attrs.js', 'tar-xattrs.js']) t.true(existsSync(join(dirname(tools.worker), m)), m);
  const { rootUid, rootGid } = hostIdMaps();
  const r = spawnSync('setpriv', ['--reuid', String(rootUid), '--regid', String(rootGid), '--clear-groups', '--', tools.runtime, '--version'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^nestbox-runtime /);
});

rootOnly('an unprivileged caller runs its own worker', (t) => {
  // Only root stages: check the decision, not a copy (this test runs as root).
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { stageWorker } from ${JSON.stringify(join(dirname(EXTRACT_WORKER), 'worker-stage.js'))};
    process.setuid?.(65534);
    console.log(stageWorker('/nonexistent/worker', '/some/worker.js'));
  `], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '/some/worker.js');
});
