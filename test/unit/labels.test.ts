import test from 'ava';
import { labelMap } from '../../lib/labels.js';

test("labels: the image's first, then the given ones in order; KEY alone is an empty value", (t) => {
  t.deepEqual(labelMap({ maintainer: 'x', tier: 'base' }, ['tier=front', 'flag', 'tier=back', 'url=a=b']), { maintainer: 'x', tier: 'back', flag: '', url: 'a=b' });
  t.deepEqual(Object.keys(labelMap({ b: '1' }, ['a', 'c=2'])), ['a', 'b', 'c'], 'sorted, as Go writes a map');
  t.deepEqual(labelMap(null, []), {});
  t.deepEqual(labelMap(undefined), {});
});
