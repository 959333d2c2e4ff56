import test from 'ava';
import { computeMappings, findRange } from '../../services/namespace/id-maps.js';

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
