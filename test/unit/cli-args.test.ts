import test from 'ava';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile } from '../../cli/process-options.js';
import { parseArgs, parseSize } from '../../cli/args.js';
import { buildRunRequest } from '../../cli/commands/run.js';
import { buildExecRequest } from '../../cli/commands/exec.js';
import { buildExportRequest } from '../../cli/commands/export.js';
import { startTimeoutMs } from '../../cli/services.js';
import { buildImportRequest, maxLayerBytes } from '../../cli/commands/import.js';

test('options stop at the image; the rest is the command', (t) => {
  const r = buildRunRequest(['--rm', '-e', 'A=1', '--env=B=2', '-eC=3', '-w', '/tmp', 'busybox', 'sh', '-c', 'echo -e hi']);
  t.deepEqual(r, { image: 'busybox', command: ['sh', '-c', 'echo -e hi'], env: ['A=1', 'B=2', 'C=3'], remove: true, network: 'none', workdir: '/tmp', pull: {} });
});

test('limits are parsed docker-style', (t) => {
  const r = buildRunRequest(['-m', '64m', '--cpus', '0.5', '--pids-limit', '20', 'busybox']);
  t.deepEqual(r.limits, { memory: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20 });
  t.is(parseSize('1g', '-m'), 1024 ** 3);
  t.throws(() => parseSize('lots', '--memory'), { message: /invalid size for --memory: "lots"/ });
  t.deepEqual(buildRunRequest(['-m', '32m', '--memory-swap', '-1', '-c', '512', '--cpuset-cpus', '0-1', 'busybox']).limits,
    { memory: 32 * 1024 * 1024, memorySwap: -1, cpuShares: 512, cpusetCpus: '0-1' });
  t.deepEqual(buildRunRequest(['-m', '32m', '--memory-swap', '64m', 'busybox']).limits, { memory: 32 * 1024 * 1024, memorySwap: 64 * 1024 * 1024 });
  t.is(buildRunRequest(['--pids-limit', '-1', 'busybox']).limits, undefined, "docker's -1: no limit");
  t.throws(() => buildRunRequest(['--pids-limit', '-2', 'busybox']), { message: /--pids-limit/ });
  t.throws(() => buildRunRequest(['--cpus', '0', 'busybox']), { message: /^invalid --cpus 0: / });
  t.throws(() => buildRunRequest(['-m', '1k', 'busybox']), { message: /minimum memory limit is 6MB/ });
  t.throws(() => buildRunRequest(['--cpu-shares', 'x', 'busybox']), { message: /invalid value for --cpu-shares/ });
});

test('-d asks for a detached run (bundled with --rm as -d --rm or -d)', (t) => {
  t.like(buildRunRequest(['-d', '--rm', 'busybox', 'sleep', '1']), { detach: true, remove: true, command: ['sleep', '1'] });
  t.is(buildRunRequest(['busybox', '-d']).detach, undefined, 'after the image it is the command\'s');
});

test('unknown flags and unsupported features are refused by name', (t) => {
  t.throws(() => buildRunRequest(['--bogus', 'busybox']), { message: 'unknown flag: --bogus' });
  t.throws(() => buildRunRequest(['-p', '8080:80', 'busybox']), { message: /not supported yet: -p/ });
  t.throws(() => buildRunRequest([]), { message: /requires at least 1 argument/ });
});

test('-i and -t ask for an attached run, each on its own', (t) => {
  t.like(buildRunRequest(['-it', 'busybox', 'sh']), { interactive: true, tty: true, command: ['sh'] });
  const i = buildRunRequest(['-i', 'busybox']);
  t.is(i.interactive, true);
  t.is(i.tty, undefined);
});

test('exec: the container, then its command; -e/-w/-u checked; -d/-i/-t as flags', (t) => {
  t.deepEqual(buildExecRequest(['-e', 'A=1', '-w', '/etc', '-u', '5:6', 'box', 'sh', '-c', 'id -u']), {
    container: 'box', args: ['sh', '-c', 'id -u'], env: ['A=1'], workdir: '/etc', user: '5:6',
  });
  t.throws(() => buildExecRequest(['box']), { message: /"nestbox exec" requires at least 2 arguments/ });
  t.is(buildExecRequest(['-u', 'nobody:nogroup', 'box', 'true']).user, 'nobody:nogroup');
  t.throws(() => buildExecRequest(['-u', 'no body', 'box', 'true']), { message: 'user "no body" must be USER[:GROUP] (names or numeric ids)' });
  t.throws(() => buildExecRequest(['-u', 'a:b:c', 'box', 'true']), { message: /^user "a:b:c" must be USER\[:GROUP\]/ });
  t.throws(() => buildExecRequest(['-w', 'etc', 'box', 'true']), { message: /working directory "etc" must be an absolute path/ });
  t.like(buildExecRequest(['-it', 'box', 'sh']), { container: 'box', args: ['sh'], interactive: true, tty: true, detach: undefined });
  t.like(buildExecRequest(['-d', 'box', 'sh', '-i']), { args: ['sh', '-i'], detach: true, interactive: undefined });
});

test('bundled short booleans and -- end options', (t) => {
  const r = parseArgs(['-aq', '--', '-x'], [{ name: 'all', short: 'a', takesValue: false }, { name: 'quiet', short: 'q', takesValue: false }], { stopAtFirstPositional: false });
  t.deepEqual([...r.options.keys()], ['all', 'quiet']);
  t.deepEqual(r.positionals, ['-x']);
});

test('the services start timeout comes from NESTBOX_START_TIMEOUT_MS, checked', (t) => {
  const saved = process.env.NESTBOX_START_TIMEOUT_MS;
  t.teardown(() => {
    if (saved === undefined) delete process.env.NESTBOX_START_TIMEOUT_MS;
    else process.env.NESTBOX_START_TIMEOUT_MS = saved;
  });
  delete process.env.NESTBOX_START_TIMEOUT_MS;
  t.is(startTimeoutMs(), 30_000);
  process.env.NESTBOX_START_TIMEOUT_MS = '300000';
  t.is(startTimeoutMs(), 300_000);
  for (const bad of ['soon', '10', '1.5e3x', '-5000']) {
    process.env.NESTBOX_START_TIMEOUT_MS = bad;
    t.throws(() => startTimeoutMs(), { message: new RegExp(`NESTBOX_START_TIMEOUT_MS must be .* got '${bad.replace(/[.+-]/g, '\\$&')}'`) });
  }
});

test('run --init asks for the built-in init; without it the request has none', (t) => {
  t.is(buildRunRequest(['--init', 'busybox']).init, true);
  t.false('init' in buildRunRequest(['busybox']));
});

test('run -v: named volumes and bind mounts docker-style; mistakes named', (t) => {
  t.deepEqual(buildRunRequest(['-v', 'data:/var/lib/x', '-v', '/tmp:/host/:ro', 'busybox']).volumes, [
    { kind: 'volume', source: 'data', destination: '/var/lib/x', readonly: false },
    { kind: 'bind', source: realpathSync('/tmp'), destination: '/host', readonly: true },
  ]);
  t.throws(() => buildRunRequest(['-v', 'data', 'busybox']), { message: 'invalid volume specification "data": expected SOURCE:DESTINATION[:ro|rw]' });
  t.throws(() => buildRunRequest(['-v', 'data:rel', 'busybox']), { message: 'invalid volume specification "data:rel": the destination "rel" must be an absolute path' });
  t.throws(() => buildRunRequest(['-v', 'data:/x:z', 'busybox']), { message: 'invalid volume specification "data:/x:z": mode "z" is not ro or rw' });
  t.throws(() => buildRunRequest(['-v', 'a/b:/x', 'busybox']), { message: /the source must be an absolute host path or a volume name/ });
  t.throws(() => buildRunRequest(['-v', 'data:/', 'busybox']), { message: /the destination cannot be \// });
  t.throws(() => buildRunRequest(['-v', 'a:/x', '-v', 'b:/x/', 'busybox']), { message: 'duplicate mount point: /x' });
  t.throws(() => buildRunRequest(['-v', '/no/such/dir:/x', 'busybox']), { message: 'bind mount source /no/such/dir: no such file or directory' });
});

test('import sends an absolute path, the reference and the size cap from NESTBOX_MAX_LAYER_BYTES', (t) => {
  const saved = process.env.NESTBOX_MAX_LAYER_BYTES;
  t.teardown(() => {
    if (saved === undefined) delete process.env.NESTBOX_MAX_LAYER_BYTES;
    else process.env.NESTBOX_MAX_LAYER_BYTES = saved;
  });
  delete process.env.NESTBOX_MAX_LAYER_BYTES;
  t.deepEqual(buildImportRequest(['rootfs.tar'], '/home/me'), { source: '/home/me/rootfs.tar' });
  t.deepEqual(buildImportRequest(['/x/r.tgz', 'mine:1'], '/home/me'), { source: '/x/r.tgz', ref: 'mine:1' });
  process.env.NESTBOX_MAX_LAYER_BYTES = '512m';
  t.is(maxLayerBytes(), 512 * 1024 ** 2);
  t.is(buildImportRequest(['a.tar'], '/').maxBytes, 512 * 1024 ** 2);
  process.env.NESTBOX_MAX_LAYER_BYTES = '2048';
  t.is(maxLayerBytes(), 2048);
  for (const bad of ['lots', '100', '1.5g', '-1m', '99999999999t']) {
    process.env.NESTBOX_MAX_LAYER_BYTES = bad;
    t.throws(() => maxLayerBytes(), { message: `NESTBOX_MAX_LAYER_BYTES must be a size of at least 1024 bytes (e.g. 1048576, 512m, 64g), got '${bad}'` });
  }
  delete process.env.NESTBOX_MAX_LAYER_BYTES;
  t.throws(() => buildImportRequest([]), { message: /requires 1 or 2 arguments/ });
  t.throws(() => buildImportRequest(['a', 'b', 'c']), { message: /requires 1 or 2 arguments/ });
  t.throws(() => buildImportRequest(['-']), { message: /standard input is not supported/ });
  t.throws(() => buildImportRequest(['--change', 'CMD x', 'a.tar']), { message: /unknown flag: --change/ });
});

test('export: one container; -o resolved to an absolute path in an existing directory; a terminal refused', (t) => {
  t.deepEqual(buildExportRequest(['c1'], false), { container: 'c1' });
  t.deepEqual(buildExportRequest(['-o', '/tmp/x.tar', 'c1'], true), { container: 'c1', file: '/tmp/x.tar' });
  t.deepEqual(buildExportRequest(['c1', '--output=rel.tar'], true), { container: 'c1', file: `${process.cwd()}/rel.tar` });
  t.throws(() => buildExportRequest(['c1'], true), { message: 'cowardly refusing to save to a terminal. Use the -o flag or redirect' });
  t.throws(() => buildExportRequest(['-o', '/no/such/dir/x.tar', 'c1'], false), { message: 'export: cannot write /no/such/dir/x.tar: no such directory /no/such/dir' });
  t.throws(() => buildExportRequest(['-o', '/tmp', 'c1'], false), { message: 'export: cannot write /tmp: it is a directory' });
  t.throws(() => buildExportRequest([], false), { message: '"nestbox export" requires exactly 1 argument: CONTAINER' });
  t.throws(() => buildExportRequest(['a', 'b'], false), { message: '"nestbox export" requires exactly 1 argument: CONTAINER' });
});

test('run --pull: docker\'s missing (default), always, never', (t) => {
  t.deepEqual(buildRunRequest(['busybox']).pull, {});
  t.is(buildRunRequest(['busybox']).pullAlways, undefined);
  t.is(buildRunRequest(['--pull', 'always', 'busybox']).pullAlways, true);
  t.is(buildRunRequest(['--pull=never', 'busybox']).pull, undefined);
  t.throws(() => buildRunRequest(['--pull', 'often', 'busybox']), { message: /^invalid pull option: 'often'/ });
});

test('--env-file: docker\'s format, files before -e, a later entry wins in the container', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-envfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'env');
  writeFileSync(file, '\uFEFF# a comment\n\nA=1\n  B= spaced value \nQUOTED="kept as is"\nNBX_FROM_CALLER\nNBX_UNSET_IN_CALLER\nEMPTY=\r\n');
  process.env.NBX_FROM_CALLER = 'callers';
  delete process.env.NBX_UNSET_IN_CALLER;
  t.teardown(() => delete process.env.NBX_FROM_CALLER);
  t.deepEqual(parseEnvFile(readFileSync(file, 'utf8'), file), ['A=1', 'B= spaced value ', 'QUOTED="kept as is"', 'NBX_FROM_CALLER', 'NBX_UNSET_IN_CALLER', 'EMPTY=']);
  const r = buildRunRequest(['--env-file', file, '-e', 'A=2', 'busybox']);
  t.deepEqual(r.env, ['A=1', 'B= spaced value ', 'QUOTED="kept as is"', 'NBX_FROM_CALLER=callers', 'EMPTY=', 'A=2']);
  t.deepEqual(buildExecRequest(['--env-file', file, 'c1', 'env']).env, (r.env as string[]).slice(0, -1));
  t.throws(() => buildRunRequest(['--env-file', join(dir, 'missing'), 'busybox']), { message: `--env-file ${join(dir, 'missing')}: no such file` });
  t.throws(() => buildRunRequest(['--env-file', dir, 'busybox']), { message: `--env-file ${dir}: is a directory` });
  t.throws(() => parseEnvFile('GOOD=1\nBAD NAME=2\n', 'f'), { message: "--env-file f line 2: variable 'BAD NAME' contains whitespace" });
  t.throws(() => parseEnvFile('B =1\n', 'f'), { message: "--env-file f line 1: variable 'B ' contains whitespace" });
  t.throws(() => parseEnvFile('=value\n', 'f'), { message: "--env-file f line 1: no variable name before '='" });
});
