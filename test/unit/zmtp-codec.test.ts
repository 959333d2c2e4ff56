/** The ZMTP pieces the CLI speaks without zeromq: greeting checks, commands, frames cut from chunks. */
import test from 'ava';
import { encodeCommand, encodeFrame, encodeGreeting, encodeReady, FrameReader, greetingProblem, parseCommand, readFrame } from '../../lib/transport/zmtp-codec.js';

test('greeting: ours is 3.0 NULL; a peer that is not ZMTP 3 with NULL is refused with the reason', (t) => {
  const ours = encodeGreeting();
  t.is(ours.length, 64);
  t.is(greetingProblem(ours), undefined);
  t.is(greetingProblem(Buffer.from('HTTP/1.1 400 Bad Request\r\n'.padEnd(64))), 'not a ZMTP 3 peer');
  const old = Buffer.from(ours);
  old[10] = 2;
  t.is(greetingProblem(old), 'ZMTP version 2.0 is too old');
  const curve = Buffer.from(ours);
  curve.write('CURVE', 12, 'ascii');
  t.is(greetingProblem(curve), 'security mechanism CURVE is not supported');
});

test('READY names the socket type; a command frame parses back to its name and data', (t) => {
  const r = readFrame(encodeReady(), 1024);
  if (!('frame' in r) || !r.frame) return t.fail('no frame');
  t.true(r.frame.command);
  const { name, data } = parseCommand(r.frame.body);
  t.is(name, 'READY');
  t.is(data.toString('latin1'), '\x0bSocket-Type\x00\x00\x00\x06DEALER');
  const ping = readFrame(encodeCommand('PING', Buffer.from([0, 0, 7])), 16);
  t.like(ping, { used: 10 }); // header 2, name 1 + 4, data 3
});

test('frames: short and long sizes, several in one chunk, one cut across many chunks', (t) => {
  const small = Buffer.from('{"id":"1"}');
  const big = Buffer.alloc(70_000, 'x');
  const wire = Buffer.concat([encodeFrame(small), encodeFrame(big), encodeFrame(small)]);
  t.is(wire[0], 0);
  t.is(wire[small.length + 2], 0x02, 'the 70 kB frame has a long size');
  const reader = new FrameReader(100_000);
  const got: Buffer[] = [];
  for (let off = 0; off < wire.length; off += 4096) got.push(...reader.push(wire.subarray(off, off + 4096)).map((f) => f.body));
  t.deepEqual(got.map((b) => b.length), [small.length, big.length, small.length]);
  t.true(got[1].equals(big));
  t.deepEqual(new FrameReader(100).push(wire.subarray(0, small.length + 2)).map((f) => f.body.toString()), ['{"id":"1"}']);
});

test('a frame over the limit is an error as soon as its header says so', (t) => {
  const reader = new FrameReader(1000);
  const header = encodeFrame(Buffer.alloc(5000)).subarray(0, 9);
  t.throws(() => reader.push(header), { message: 'a frame of 5000 bytes is over the 1000-byte limit' });
});
