import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { delegatedV1Host, isWithin, parseDelegationRecord, recordPath, type DelegationRecord } from '../../services/cgroup/cgroup-delegation.js';
import { plannedDelegation } from '../../services/cgroup/cgroup-setup.js';
import { parseCgroupHost } from '../../services/cgroup/cgroup-probe.js';
import { selectCgroupManager, v2Base } from '../../services/cgroup/select-manager.js';

const HYBRID = parseCgroupHost([
  '31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  '33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '35 30 0:31 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
  '36 30 0:32 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset',
].join('\n'), '5:pids:/user.slice\n4:cpu,cpuacct:/\n3:memory:/a/b\n2:cpuset:/\n0::/user.slice\n');
const UNIFIED = parseCgroupHost('40 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice/user-1000.slice/session-1.scope\n');
const USER = { name: 'alice', uid: 1000, gid: 1000 };

test('a record is accepted only for its uid, with absolute directories', (t) => {
  const ok = { user: 'alice', uid: 1000, v1: { memory: '/sys/fs/cgroup/memory/nestbox-user-1000' } };
  t.deepEqual(parseDelegationRecord(JSON.stringify(ok), 1000), ok);
  t.is(parseDelegationRecord(JSON.stringify(ok), 1001), undefined);
  t.is(parseDelegationRecord(JSON.stringify({ ...ok, v1: { memory: 'relative' } }), 1000), undefined);
  t.is(parseDelegationRecord(JSON.stringify({ ...ok, v2: 7 }), 1000), undefined);
  t.is(parseDelegationRecord('not json', 1000), undefined);
});

test('setup plans one directory per used v1 hierarchy under its own cgroup, none for cpuset; v2 under the root', (t) => {
  const planned = plannedDelegation(HYBRID, USER);
  t.deepEqual(planned, {
    user: 'alice', uid: 1000,
    v1: {
      memory: '/sys/fs/cgroup/memory/a/b/nestbox-user-1000',
      'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/nestbox-user-1000',
      pids: '/sys/fs/cgroup/pids/user.slice/nestbox-user-1000',
    },
  });
  t.deepEqual(plannedDelegation(UNIFIED, USER), { user: 'alice', uid: 1000, v1: {}, v2: '/sys/fs/cgroup/nestbox-user-1000' });
  const previous: DelegationRecord = { ...planned, v1: { ...planned.v1, memory: '/sys/fs/cgroup/memory/old/nestbox-user-1000' } };
  t.is(plannedDelegation(HYBRID, USER, previous).v1.memory, '/sys/fs/cgroup/memory/old/nestbox-user-1000', 'a second setup keeps what the first made');
});

test('the v1 driver sees the delegated directories as its own, whatever the controller order', (t) => {
  const host = delegatedV1Host(HYBRID, { user: 'alice', uid: 1000, v1: { memory: '/m/d', 'cpuacct,cpu': '/c/d' } });
  t.deepEqual(host.v1.map((h) => [h.controllers.join(','), h.ownDir]), [['memory', '/m/d'], ['cpu,cpuacct', '/c/d']]);
});

test('isWithin compares whole path components', (t) => {
  t.true(isWithin('/sys/fs/cgroup/nestbox-user-1', '/sys/fs/cgroup/nestbox-user-1'));
  t.true(isWithin('/sys/fs/cgroup/nestbox-user-1/nestbox/service', '/sys/fs/cgroup/nestbox-user-1/'));
  t.false(isWithin('/sys/fs/cgroup/nestbox-user-10', '/sys/fs/cgroup/nestbox-user-1'));
});

test('selection: no delegation names the fix; a complete v1 delegation is used; an incomplete one says what is missing', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'nbx-cgsel-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  // own cgroups that do not exist: not writable, whoever runs the test
  const host = parseCgroupHost([
    `33 30 0:29 / ${base}/memory rw - cgroup cgroup rw,memory`,
    `35 30 0:31 / ${base}/pids rw - cgroup cgroup rw,pids`,
  ].join('\n'), '5:pids:/x\n3:memory:/x\n');
  const none = selectCgroupManager(host, 1000, undefined);
  t.is(none.driver, 'none');
  t.regex(none.describe().unavailable!, /^uid 1000 may not create cgroups under .*memory\/x \(cgroup v1 without delegation\); ask root to run "nestbox system setup-cgroups --user /);
  t.throws(() => none.create('a'.repeat(64), { memory: 1 << 26 }), { message: /^cannot enforce --memory: uid 1000 .*setup-cgroups --user / });
  t.deepEqual(none.create('a'.repeat(64), {}), { driver: 'none', paths: [] });

  mkdirSync(join(base, 'dm'));
  mkdirSync(join(base, 'dp'));
  const full = selectCgroupManager(host, 1000, { user: 'alice', uid: 1000, v1: { memory: join(base, 'dm'), pids: join(base, 'dp') } });
  t.is(full.driver, 'v1');
  t.deepEqual(full.describe().controllers, { memory: join(base, 'dm', 'nestbox'), pids: join(base, 'dp', 'nestbox') });

  const partial = selectCgroupManager(host, 1000, { user: 'alice', uid: 1000, v1: { memory: join(base, 'dm') } });
  t.is(partial.driver, 'none');
  t.regex(partial.describe().unavailable!, /delegation to uid 1000 is incomplete \(no directory is delegated in .*\/pids\)/);
  const gone = selectCgroupManager(host, 1000, { user: 'alice', uid: 1000, v1: { memory: join(base, 'gone'), pids: join(base, 'dp') } });
  t.regex(gone.describe().unavailable!, /incomplete \(.*\/gone is missing or not writable\)/);
});

test('selection on v2: a service outside the delegated subtree is told to start inside it', (t) => {
  const host = parseCgroupHost('40 25 0:26 / /nonexistent-cgroup2 rw - cgroup2 cgroup2 rw', '0::/user.slice/session-1.scope\n');
  const outside = selectCgroupManager(host, 1000, { user: 'alice', uid: 1000, v1: {}, v2: '/nonexistent-cgroup2/nestbox-user-1000' });
  t.is(outside.driver, 'none');
  t.regex(outside.describe().unavailable!, /runs in \/nonexistent-cgroup2\/user.slice\/session-1.scope, outside the cgroup subtree \/nonexistent-cgroup2\/nestbox-user-1000 delegated to uid 1000; .*echo PID > \/nonexistent-cgroup2\/nestbox-user-1000\/service\/cgroup.procs/);
  t.regex(selectCgroupManager(host, 1000, undefined).describe().unavailable!, /no delegation\); ask root to run "nestbox system setup-cgroups --user /);
});

test('selection on v2, self-delegated: a nestbox already moved into its nestbox/service leaf keeps the cgroup above as its base', (t) => {
  t.is(v2Base('/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/nb.scope/nestbox/service'), '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/nb.scope');
  t.is(v2Base('/sys/fs/cgroup/a/b'), '/sys/fs/cgroup/a/b');
  t.is(v2Base('/sys/fs/cgroup/a/service'), '/sys/fs/cgroup/a/service', 'only our own leaf, below a nestbox dir');
  const dir = mkdtempSync(join(tmpdir(), 'nbx-v2base-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'deleg', 'nestbox', 'service'), { recursive: true });
  writeFileSync(join(dir, 'deleg', 'cgroup.controllers'), 'cpu memory pids\n');
  const host = parseCgroupHost(`40 25 0:26 / ${dir} rw - cgroup2 cgroup2 rw`, '0::/deleg/nestbox/service\n');
  const m = selectCgroupManager(host, 1000, undefined);
  t.is(m.driver, 'v2');
  t.is(m.describe().unavailable, undefined);
  // every controller it would offer sits under <base>/nestbox, never under the leaf
  t.deepEqual(m.describe().controllers, { cpu: join(dir, 'deleg', 'nestbox'), memory: join(dir, 'deleg', 'nestbox'), pids: join(dir, 'deleg', 'nestbox') });
});

test('records are in /etc/nestbox/cgroups unless NESTBOX_CGROUP_DELEGATION_DIR names an absolute directory', (t) => {
  const saved = process.env.NESTBOX_CGROUP_DELEGATION_DIR;
  t.teardown(() => {
    if (saved === undefined) delete process.env.NESTBOX_CGROUP_DELEGATION_DIR;
    else process.env.NESTBOX_CGROUP_DELEGATION_DIR = saved;
  });
  delete process.env.NESTBOX_CGROUP_DELEGATION_DIR;
  t.is(recordPath(1000), '/etc/nestbox/cgroups/1000.json');
  process.env.NESTBOX_CGROUP_DELEGATION_DIR = 'relative';
  t.is(recordPath(1000), '/etc/nestbox/cgroups/1000.json');
  process.env.NESTBOX_CGROUP_DELEGATION_DIR = '/tmp/x';
  t.is(recordPath(1000), '/tmp/x/1000.json');
});
