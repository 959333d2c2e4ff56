import test from 'ava';
import { mkdtempSync, rmSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as tar from 'tar';
import { writeTar } from '../../services/storage/tar-writer.js';

test('writes a ustar archive that tar reads back with exact modes and a digest of its bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-tar-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'l.tar');
  const long = `${'d'.repeat(90)}/${'f'.repeat(60)}`;
  const { digest, size } = writeTar(file, [
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'd'.repeat(90), mode: 0o755 },
    { type: 'file', path: long, mode: 0o640, content: Buffer.from('x'.repeat(700)) },
    { type: 'symlink', path: 'sh', target: 'busybox' },
  ], 1_700_000_000);
  const bytes = readFileSync(file);
  t.is(size, bytes.length);
  t.is(digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  const out = join(dir, 'out');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(out);
  await tar.x({ file, cwd: out, strict: true, chmod: true, processUmask: process.umask() });
  t.is(lstatSync(join(out, 'tmp')).mode & 0o7777, 0o1777);
  t.is(readFileSync(join(out, long), 'utf8'), 'x'.repeat(700));
  t.is(lstatSync(join(out, long)).mode & 0o777, 0o640);
  t.is(readlinkSync(join(out, 'sh')), 'busybox');
  t.is(lstatSync(join(out, long)).mtimeMs, 1_700_000_000_000);
});
