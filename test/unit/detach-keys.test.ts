import test from 'ava';
import { DetachKeys } from '../../cli/attach-relay.js';

const b = (...bytes: number[]) => Buffer.from(bytes);

test('Ctrl-P Ctrl-Q detaches; what came before it still goes to the container', (t) => {
  t.deepEqual(new DetachKeys().scan(Buffer.from('ls\r\x10\x11more')), { input: Buffer.from('ls\r'), detach: true });
});

test('a Ctrl-P at the end of a chunk waits for the next one: Ctrl-Q detaches, anything else passes with it', (t) => {
  const keys = new DetachKeys();
  t.deepEqual(keys.scan(b(0x61, 0x10)), { input: b(0x61), detach: false });
  t.deepEqual(keys.scan(b(0x11)), { input: b(), detach: true });
  const other = new DetachKeys();
  other.scan(b(0x10));
  t.deepEqual(other.scan(b(0x62)), { input: b(0x10, 0x62), detach: false });
});

test('a Ctrl-P followed by another key is the container\'s (shells use it for history)', (t) => {
  t.deepEqual(new DetachKeys().scan(b(0x10, 0x61, 0x11)), { input: b(0x10, 0x61, 0x11), detach: false });
});
