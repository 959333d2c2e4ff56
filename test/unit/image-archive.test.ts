import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageArchive, safeMemberName } from '../../services/storage/image-archive.js';
import { rawTar } from '../helpers/raw-tar.js';

const dir = mkdtempSync(join(tmpdir(), 'nbx-archive-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function archive(name: string, bytes: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

const slice = (file: string, r: { start: number; size: number }) => readFileSync(file).subarray(r.start, r.start + r.size).toString();

test('members are byte ranges of the tar; ./ names, long names and docker\'s linked layers resolve', (t) => {
  const long = `${'d'.repeat(120)}/layer.tar`;
  const file = archive('a.tar', rawTar([
    { path: './manifest.json', content: Buffer.from('[]') },
    { path: 'aaa/layer.tar', content: Buffer.from('layer bytes') },
    { path: 'bbb/layer.tar', type: 'SymbolicLink', linkpath: '../aaa/layer.tar' },
    { path: 'ccc/layer.tar', type: 'Link', linkpath: 'aaa/layer.tar' },
    { path: long, content: Buffer.from('long') },
    { path: 'evil/layer.tar', type: 'SymbolicLink', linkpath: '../../etc/passwd' },
    { path: 'dir', type: 'Directory' },
  ]));
  const a = openImageArchive(file);
  t.true(a.has('manifest.json'));
  t.is(a.read('manifest.json', 100, 'm').toString(), '[]');
  t.is(slice(file, a.range('aaa/layer.tar', 'layer')), 'layer bytes');
  t.is(slice(file, a.range('bbb/layer.tar', 'layer')), 'layer bytes');
  t.is(slice(file, a.range('ccc/layer.tar', 'layer')), 'layer bytes');
  t.is(slice(file, a.range(long, 'layer')), 'long');
  t.throws(() => a.range('evil/layer.tar', 'layer'), { message: /links to: member name "\.\.\/etc\/passwd" is absolute or contains '\.\.': refused/ });
  t.throws(() => a.range('dir', 'layer'), { message: 'layer: dir in the archive is not a regular file' });
  t.throws(() => a.range('nope', 'layer'), { message: 'layer: missing nope in the archive' });
  t.throws(() => a.read('aaa/layer.tar', 4, 'config'), { message: /config aaa\/layer\.tar: 11 bytes is more than the 4/ });
});

test('truncation, damage and other formats are refused in one line', (t) => {
  const whole = rawTar([{ path: 'x', content: Buffer.alloc(2000, 1) }]);
  t.throws(() => openImageArchive(archive('cut.tar', whole.subarray(0, 1000))), { message: /the archive is truncated \(a member at byte 0 ends past its end\)/ });
  t.throws(() => openImageArchive(archive('noend.tar', whole.subarray(0, 512 + 2048))), { message: /ends without the end-of-archive blocks/ });
  const damaged = Buffer.from(whole);
  damaged[5] = 0x41; // the header's name: checksum no longer matches
  t.throws(() => openImageArchive(archive('bad.tar', damaged)), { message: 'not a tar archive (nor an OCI layout directory)' });
  t.throws(() => openImageArchive(archive('xz.tar', Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]))), { message: /xz-compressed \(decompress it first/ });
  t.throws(() => openImageArchive(archive('tiny', Buffer.from('hi'))), { message: /too short/ });
  t.throws(() => openImageArchive(join(dir, 'absent')), { message: 'no such file or directory' });
});

test('a directory is an OCI layout whose members are its files', (t) => {
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'index.json'), '{}');
  const a = openImageArchive(layout);
  t.true(a.has('index.json'));
  t.false(a.has('manifest.json'));
  t.is(a.read('./index.json', 10, 'index').toString(), '{}');
  t.throws(() => a.range('blobs', 'blob'), { message: 'blob: blobs in the layout directory is not a regular file' });
  t.throws(() => a.range('../layout/index.json', 'blob'), { message: /is absolute or contains '\.\.'/ });
});

test('safeMemberName refuses absolute and .. names and normalises the rest', (t) => {
  t.is(safeMemberName('./a//b/layer.tar', 'x'), 'a/b/layer.tar');
  t.throws(() => safeMemberName('/etc/passwd', 'x'), { message: /absolute or contains/ });
  t.throws(() => safeMemberName('a/../../b', 'x'), { message: /absolute or contains/ });
  t.throws(() => safeMemberName(7, 'x'), { message: 'x: member name must be a non-empty string' });
});
