/**
 * docker's prunes, on an instance of their own (they remove everything stopped or unused):
 * container prune asks first (no: nothing goes), -f removes every container not running and
 * lists them; image prune takes untagged images no container uses, -a every image no container
 * uses; system prune both. Each says the space it freed. Root and rootless.
 */
import { eachInstance } from '../helpers/each-instance.js';

const each = eachInstance();

each('container, image and system prune: what is stopped or unused goes, what runs or is used stays', async (t, nb) => {
  const keep = (await nb.cli(['run', '-d', '--name', 'keep', 'busybox', 'sleep', '300'])).stdout.trim();
  const created = (await nb.cli(['create', '--name', 'c1', 'busybox', 'true'])).stdout.trim();
  const ran = await nb.cli(['run', '--name', 'e1', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1k count=200 2>/dev/null']);
  t.is(ran.code, 0, ran.stderr);
  const names = async () => (await nb.cli(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort().join(' ');

  const no = await nb.cli(['container', 'prune'], { input: 'n\n' });
  t.is(no.code, 0, no.stderr);
  t.is(no.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
  t.is(await names(), 'c1 e1 keep', 'no: nothing removed');

  const pruned = await nb.cli(['container', 'prune', '-f']);
  t.is(pruned.code, 0, pruned.stderr);
  const [head, ...rest] = pruned.stdout.split('\n');
  t.is(head, 'Deleted Containers:');
  const e1 = rest.find((l) => l !== created && /^[0-9a-f]{64}$/.test(l));
  t.deepEqual(rest.filter((l) => /^[0-9a-f]{64}$/.test(l)).sort(), [created, e1!].sort());
  t.false(rest.includes(keep));
  t.regex(pruned.stdout, /\n\nTotal reclaimed space: \d+(\.\d+)?kB\n$/, 'e1 wrote 200 kB');
  t.is(await names(), 'keep');

  // an untagged image and a tagged one, both of the running container
  t.is((await nb.cli(['commit', 'keep'])).code, 0);
  t.is((await nb.cli(['commit', 'keep', 'mine:1'])).code, 0);
  const images = async () => (await nb.cli(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean).sort().join(' ');
  t.is(await images(), '<none>:<none> busybox:latest mine:1');
  const dangling = await nb.cli(['image', 'prune', '-f']);
  t.is(dangling.code, 0, dangling.stderr);
  t.regex(dangling.stdout, /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n/);
  t.is(await images(), 'busybox:latest mine:1');
  const unused = await nb.cli(['image', 'prune', '-a', '-f']);
  t.regex(unused.stdout, /^Deleted Images:\nuntagged: mine:1\ndeleted: sha256:/);
  t.is(await images(), 'busybox:latest', 'the running container still uses busybox');

  t.is((await nb.cli(['rm', '-f', 'keep'])).code, 0);
  const system = await nb.cli(['system', 'prune', '-a', '-f']);
  t.is(system.code, 0, system.stderr);
  t.regex(system.stdout, /^Deleted Images:\nuntagged: busybox:latest\n[^]*\n\nTotal reclaimed space: \d+(\.\d+)?MB\n$/);
  t.is(await images(), '');
  const extra = await nb.cli(['container', 'prune', '-f', 'x']);
  t.is(extra.code, 125);
  t.is(extra.stderr, 'nestbox: "nestbox container prune" accepts no arguments\n');
});
