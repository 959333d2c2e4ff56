import test from 'ava';
import { parseCgroupHost } from '../../services/cgroup/cgroup-probe.js';

const HYBRID_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw',
  '33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
  '34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 30 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids',
].join('\n');
const HYBRID_SELF = '5:pids:/user.slice\n4:cpu,cpuacct:/\n3:memory:/process_api/abc\n0::/user.slice\n';

test('hybrid: v1 controllers where they are mounted, own dirs per hierarchy', (t) => {
  const host = parseCgroupHost(HYBRID_MOUNTINFO, HYBRID_SELF);
  t.is(host.layout, 'hybrid');
  t.deepEqual(host.v1.map((h) => [h.controllers.join(','), h.ownDir]), [
    ['memory', '/sys/fs/cgroup/memory/process_api/abc'],
    ['cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct'],
    ['pids', '/sys/fs/cgroup/pids/user.slice'],
  ]);
  t.is(host.v2!.ownDir, '/sys/fs/cgroup/unified/user.slice');
});

test('unified: one cgroup2 hierarchy', (t) => {
  const host = parseCgroupHost('40 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate', '0::/user.slice/user-1000.slice/session-1.scope\n');
  t.is(host.layout, 'unified');
  t.deepEqual(host.v1, []);
  t.is(host.v2!.ownDir, '/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope');
});

test('a cgroup namespace mount (root not /) strips the mount root', (t) => {
  const host = parseCgroupHost('40 25 0:26 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice/app\n');
  t.is(host.v2!.ownDir, '/sys/fs/cgroup/app');
});
