/**
 * run -v: a named volume (made on first use, kept after the container, removed by volume rm or
 * rm -v, never while a container uses it) and a host directory bind mount (read-write or :ro);
 * files written inside belong on the host to container root's id (the user rootless, root's
 * subordinate id as root). As root and rootless.
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_USER, userIds } from '../helpers/host.js';
import { eachInstance } from '../helpers/each-instance.js';
import type { NestboxInstance } from '../helpers/nestbox.js';

const each = eachInstance();

/** container root's id on the host */
function containerRootUid(kind: 'root' | 'rootless'): number {
  if (kind === 'rootless') return userIds(TEST_USER)!.uid;
  const line = readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('root:'))!;
  return Number(line.split(':')[1]);
}

function volumeDirs(nb: NestboxInstance): string[] {
  const dir = join(nb.dataRoot, 'volumes');
  return existsSync(dir) ? readdirSync(dir) : [];
}

each('-v NAME:/path and -v /host:/path[:ro]: data outlives the container, owned by container root', async (t, nb, kind) => {
  const owner = containerRootUid(kind);
  const host = join(nb.base, 'host');
  mkdirSync(host);
  chownSync(host, owner, owner);

  const first = await nb.cli(['run', '--rm', '-v', 'data:/v', '-v', `${host}:/h`, 'busybox', 'sh', '-c', 'echo a > /h/a; echo b > /v/b; cat /proc/self/mountinfo | grep -c " /[vh] "']);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout, '2\n');
  t.is(readFileSync(join(host, 'a'), 'utf8'), 'a\n');
  t.is(lstatSync(join(host, 'a')).uid, owner);

  const again = await nb.cli(['run', '--rm', '-v', 'data:/v', 'busybox', 'cat', '/v/b']);
  t.is(again.stdout, 'b\n', again.stderr);
  const inspect = await nb.cli(['volume', 'inspect', 'data']);
  t.is(inspect.code, 0, inspect.stderr);
  const [info] = JSON.parse(inspect.stdout) as Array<{ Name: string; Mountpoint: string }>;
  t.like(info, { Name: 'data', Mountpoint: join(nb.dataRoot, 'volumes', 'data', '_data') });
  t.is(lstatSync(join(info.Mountpoint, 'b')).uid, owner);

  const ro = await nb.cli(['run', '--rm', '-v', `${host}:/h:ro`, 'busybox', 'sh', '-c', 'echo x > /h/x']);
  t.is(ro.code, 1);
  t.regex(ro.stderr, /Read-only file system/);
  t.false(existsSync(join(host, 'x')));
  t.is((await nb.cli(['volume', 'ls', '-q'])).stdout, 'data\n');
  t.is((await nb.cli(['volume', 'rm', 'data'])).code, 0);
  t.deepEqual(volumeDirs(nb), []);
});

each('volume rm is refused while a container uses it; rm -v removes the volumes no other container uses', async (t, nb) => {
  const run = await nb.cli(['run', '-d', '--name', 'user1', '-v', 'shared:/s', '-v', 'own:/o', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  const other = await nb.cli(['run', '-d', '--name', 'user2', '-v', 'shared:/s', 'busybox', 'sleep', '300']);
  t.is(other.code, 0, other.stderr);
  const busy = await nb.cli(['volume', 'rm', 'own']);
  t.is(busy.code, 1);
  t.is(busy.stderr, 'nestbox: volume own is in use by container user1\n');
  t.is((await nb.cli(['rm', '-f', '-v', 'user1'])).code, 0);
  t.deepEqual(volumeDirs(nb).sort(), ['shared'], 'own went with user1; shared is still used by user2');
  t.is((await nb.cli(['rm', '-f', 'user2'])).code, 0);
  t.deepEqual(volumeDirs(nb), ['shared'], 'rm without -v keeps volumes');
  const rm = await nb.cli(['volume', 'rm', 'shared', 'nosuch']);
  t.is(rm.code, 1);
  t.is(rm.stdout, 'shared\n');
  t.is(rm.stderr, 'nestbox: no such volume: nosuch\n');
  t.deepEqual(volumeDirs(nb), []);
  const created = await nb.cli(['volume', 'create', 'made']);
  t.is(created.stdout, 'made\n', created.stderr);
  t.is((await nb.cli(['volume', 'ls'])).stdout, 'DRIVER   VOLUME NAME\nlocal    made\n');
  t.is((await nb.cli(['volume', 'rm', 'made'])).code, 0);
});

each('bad -v and volume arguments are one line and 125; nothing is made', async (t, nb) => {
  const cases: Array<[string[], string]> = [
    [['run', '--rm', '-v', 'data', 'busybox', 'true'], 'invalid volume specification "data": expected SOURCE:DESTINATION[:ro|rw]'],
    [['run', '--rm', '-v', 'data:/x:z', 'busybox', 'true'], 'invalid volume specification "data:/x:z": mode "z" is not ro or rw'],
    [['run', '--rm', '-v', '/no/such/dir:/x', 'busybox', 'true'], 'bind mount source /no/such/dir: no such file or directory'],
    [['run', '--rm', '-v', 'a:/x', '-v', 'b:/x', 'busybox', 'true'], 'duplicate mount point: /x'],
    [['volume', 'create', '../x'], 'invalid volume name "../x": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*'],
    [['volume', 'frob'], 'unknown volume command "frob"; usage: nestbox volume create NAME | ls [-q] | inspect NAME... | rm NAME...'],
  ];
  for (const [args, message] of cases) {
    const r = await nb.cli(args);
    t.is(r.code, 125, args.join(' '));
    t.is(r.stderr, `nestbox: ${message}\n`);
  }
  t.deepEqual(volumeDirs(nb), []);
});
