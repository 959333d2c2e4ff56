import test from 'ava';
import { buildLoadRequest } from '../../cli/commands/load.js';
import { buildSaveRequest } from '../../cli/commands/save.js';

test('load: -i resolved against the caller\'s directory; stdin unless a terminal; no arguments', (t) => {
  t.deepEqual(buildLoadRequest(['-i', 'img.tar'], true, '/home/u'), { quiet: false, input: '/home/u/img.tar' });
  t.deepEqual(buildLoadRequest(['--input=/x/img.tar', '-q'], false), { quiet: true, input: '/x/img.tar' });
  t.deepEqual(buildLoadRequest([], false), { quiet: false });
  t.throws(() => buildLoadRequest([], true), { message: 'requested load from stdin, but stdin is a terminal: use -i FILE or redirect' });
  t.throws(() => buildLoadRequest(['img.tar'], false), { message: /accepts no arguments/ });
  t.throws(() => buildLoadRequest(['-i', ''], false), { message: 'load: -i needs a file name' });
});

test('save: images, -o like export\'s, a terminal on stdout refused', (t) => {
  t.deepEqual(buildSaveRequest(['a:1', 'b'], false), { images: ['a:1', 'b'] });
  t.deepEqual(buildSaveRequest(['-o', '/tmp/x.tar', 'a'], true), { images: ['a'], file: '/tmp/x.tar' });
  t.throws(() => buildSaveRequest(['a'], true), { message: 'cowardly refusing to save to a terminal. Use the -o flag or redirect' });
  t.throws(() => buildSaveRequest([], false), { message: '"nestbox save" requires at least 1 argument: IMAGE...' });
  t.throws(() => buildSaveRequest(['-o', '/no/such/dir/x.tar', 'a'], false), { message: 'save: cannot write /no/such/dir/x.tar: no such directory /no/such/dir' });
});
