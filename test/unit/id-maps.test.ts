import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeMappings, findRange, hostIdMaps } from '../../services/namespace/id-maps.js';

const SUBUID = 'root:1000000:65536\n# comment\nalice:100000:65536\n1002:200000:1000\nbroken:x:y\n';

test('findRange by name and by numeric uid', (t) => {
  t.deepEqual(findRange(SUBUID, 'alice', 1001), { start: 100000, count: 65536 });
  t.deepEqual(findRange(SUBUID, 'bob', 1002), { start: 200000, count: 1000 });
  t.is(findRange(SUBUID, 'carol', 1003), undefined);
  t.is(findRange(SUBUID, 'broken', 5), undefined);
});

test('rootless with a range: caller is 0, the range is 1..65535', (t) => {
  t.deepEqual(computeMappings(1001, { start: 100000, count: 65536 }, false).maps, [
    { containerID: 0, hostID: 1001, size: 1 },
    { containerID: 1, hostID: 100000, size: 65535 },
  ]);
});

test('rootless without a range: single-id mapping', (t) => {
  t.deepEqual(computeMappings(1001, undefined, false).maps, [{ containerID: 0, hostID: 1001, size: 1 }]);
});

test("root maps container 0 into its own range, never to host 0", (t) => {
  t.deepEqual(computeMappings(0, { start: 1000000, count: 65536 }, true).maps, [{ containerID: 0, hostID: 1000000, size: 65536 }]);
  t.deepEqual(computeMappings(0, undefined, true).maps, []);
});

const asRoot = process.getuid?.() === 0;

(asRoot ? test : test.skip)('as root without a subordinate range: refused, never mapped to host root', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-idmaps-'));
  try {
    writeFileSync(join(dir, 'subuid'), 'someone:100000:65536\n');
    writeFileSync(join(dir, 'subgid'), 'someone:100000:65536\n');
    const err = t.throws(() => hostIdMaps({ subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') }));
    t.regex(err!.message, /root has no subordinate id range in .*subuid.*usermod --add-subuids/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

(asRoot ? test : test.skip)("as root with a range: containers map into it, the warning is absent", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-idmaps-'));
  try {
    writeFileSync(join(dir, 'subuid'), 'root:2000000:65536\n');
    writeFileSync(join(dir, 'subgid'), 'root:3000000:65536\n');
    const ids = hostIdMaps({ subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') });
    t.deepEqual(ids.uidMappings, [{ containerID: 0, hostID: 2000000, size: 65536 }]);
    t.deepEqual(ids.gidMappings, [{ containerID: 0, hostID: 3000000, size: 65536 }]);
    t.deepEqual([ids.rootUid, ids.rootGid], [2000000, 3000000]);
    t.is(ids.warning, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
