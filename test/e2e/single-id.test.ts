/**
 * A user with no /etc/subuid range still gets a sandbox: a single-id mapping (container 0 is the
 * user, nothing else exists) with a warning, and the default image still extracts.
 */
import test from 'ava';
import { SOLO_USER, rootlessUnavailable, unstage, userIds } from '../helpers/host.js';
import { NestboxInstance } from '../helpers/nestbox.js';

const why = rootlessUnavailable(SOLO_USER);
let nb: NestboxInstance | undefined;

test.after.always(async () => {
  await nb?.stop();
  unstage();
});

(why ? test.skip : test)(`${SOLO_USER} without a subordinate range: single-id mapping and one warning${why ? ` (skipped: ${why})` : ''}`, async (t) => {
  nb = NestboxInstance.rootless({}, SOLO_USER);
  const r = await nb.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo hello; id -u; cat /proc/self/uid_map']);
  t.is(r.code, 0, r.stderr);
  const [hello, uid, map] = r.stdout.trim().split('\n');
  t.is(hello, 'hello');
  t.is(uid, '0');
  t.deepEqual(map.trim().split(/\s+/).map(Number), [0, userIds(SOLO_USER)!.uid, 1]);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1);
  t.regex(lines[0], /^WARNING: no range for nbxsolo .*single-id mapping/);
});
