/**
 * The pure parts of layer fidelity and commit: PAX headers of the commit's tar (long paths, big
 * ids, binary xattrs) as node-tar and the xattr scanner read them back, the scanner's byte-exact
 * SCHILY.xattr records, the committed image's config, and `nestbox commit`'s arguments.
 */
import test from 'ava';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { buildCommitRequest } from '../../cli/commands/commit.js';
import { committedImageConfig } from '../../services/storage/commit-config.js';
import type { OciImageConfig } from '../../services/storage/image-store.js';
import { END_OF_ARCHIVE, entryHeader, padding } from '../../services/storage/layer-tar.js';
import { TarXattrScanner, paxXattrs } from '../../services/storage/tar-xattrs.js';

const BINARY = Buffer.from([0xff, 0x00, 0x0a, 0x3d, 0x80]);

function archive(): Buffer {
  const long = `${'d'.repeat(120)}/${'e'.repeat(120)}/file`;
  return Buffer.concat([
    entryHeader({ type: 'dir', path: 'd', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000, xattrs: new Map([['user.dir', Buffer.from('yes')]]) }),
    entryHeader({ type: 'file', path: long, mode: 0o4750, uid: 3_000_000, gid: 1000, mtime: 1_700_000_000, size: 3, xattrs: new Map([['user.bin', BINARY]]) }),
    Buffer.from('abc'), padding(3),
    entryHeader({ type: 'symlink', path: 'l', mode: 0o777, uid: 0, gid: 0, mtime: 1, linkpath: `/${'t'.repeat(150)}` }),
    entryHeader({ type: 'file', path: 'd/.wh.gone', mode: 0o644, uid: 0, gid: 0, mtime: 1, size: 0 }),
    END_OF_ARCHIVE,
  ]);
}

test('the commit tar\'s headers read back through node-tar: long paths, big ids, set-id modes, long link targets', (t) => {
  const seen: Record<string, unknown>[] = [];
  const parser = new tar.Parser({ onReadEntry: (e) => { seen.push({ path: e.path, type: e.type, uid: e.uid, mode: e.mode, size: e.size, linkpath: e.linkpath }); e.resume(); } });
  parser.end(archive());
  t.deepEqual(seen.map((e) => e.path), ['d/', `${'d'.repeat(120)}/${'e'.repeat(120)}/file`, 'l', 'd/.wh.gone']);
  t.like(seen[1], { type: 'File', uid: 3_000_000, mode: 0o4750, size: 3 });
  t.like(seen[2], { type: 'SymbolicLink', linkpath: `/${'t'.repeat(150)}` });
});

test('the xattr scanner gives each entry node-tar filters its SCHILY.xattr values byte for byte', async (t) => {
  const scanner = new TarXattrScanner();
  const filtered: string[] = [];
  const parser = new tar.Parser({ filter: (p) => (filtered.push(p), true), onReadEntry: (e) => e.resume() });
  const data = archive();
  // in small chunks: headers and PAX bodies cross chunk boundaries
  await new Promise<void>((resolve, reject) => {
    Readable.from((function* () { for (let i = 0; i < data.length; i += 100) yield data.subarray(i, i + 100); })()).pipe(scanner).pipe(parser).on('end', resolve).on('error', reject);
  });
  t.deepEqual(scanner.entries.map((e) => e.path), filtered);
  t.deepEqual(scanner.entries[0].xattrs.get('user.dir'), Buffer.from('yes'));
  t.deepEqual(scanner.entries[1].xattrs.get('user.bin'), BINARY);
  t.is(scanner.entries[2].xattrs.size, 0, 'a PAX header applies to the next entry only');
});

test('paxXattrs: lengths count bytes; other keys are ignored', (t) => {
  const record = (k: string, v: Buffer) => {
    const rest = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
    const len = String(rest.length + 2).length + rest.length;
    return Buffer.concat([Buffer.from(String(len)), rest]);
  };
  const body = Buffer.concat([record('path', Buffer.from('é/x')), record('SCHILY.xattr.user.a', BINARY), record('SCHILY.xattr.security.capability', Buffer.from([1, 0, 0, 2]))]);
  t.deepEqual([...paxXattrs(body)], [['user.a', BINARY], ['security.capability', Buffer.from([1, 0, 0, 2])]]);
});

test('a committed config is the parent\'s with one more layer, history entry, author, comment and container', (t) => {
  const parent: OciImageConfig = {
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00.000Z', author: 'someone else', comment: 'old',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: ['sha256:a'] },
    history: [{ created_by: 'base' }],
  };
  const now = new Date('2026-01-02T03:04:05.000Z');
  const c = committedImageConfig(parent, 'sha256:b', { containerId: 'c'.repeat(64), createdBy: 'sh -c x', author: 'me', comment: 'why' }, now);
  t.deepEqual(c, {
    architecture: 'amd64', os: 'linux', created: now.toISOString(), author: 'me', comment: 'why', container: 'c'.repeat(64),
    config: { Env: ['PATH=/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b'] },
    history: [{ created_by: 'base' }, { created: now.toISOString(), created_by: 'sh -c x', author: 'me', comment: 'why' }],
  });
  const plain = committedImageConfig(parent, 'sha256:b', { containerId: 'c'.repeat(64), createdBy: 'x' }, now);
  t.false('author' in plain || 'comment' in plain, 'the parent\'s author and comment are not the new image\'s');
});

test('commit arguments: docker\'s -a/-m, an optional tag, one-line refusals', (t) => {
  t.deepEqual(buildCommitRequest(['c1']), { container: 'c1' });
  t.deepEqual(buildCommitRequest(['-a', 'me', '-m', 'msg', 'c1', 'repo/name:tag']), { container: 'c1', ref: 'repo/name:tag', author: 'me', comment: 'msg' });
  t.deepEqual(buildCommitRequest(['--author=me', '--message', 'm', 'c1']), { container: 'c1', author: 'me', comment: 'm' });
  t.throws(() => buildCommitRequest([]), { message: '"nestbox commit" requires 1 or 2 arguments: CONTAINER [REPOSITORY[:TAG]]' });
  t.throws(() => buildCommitRequest(['c', 'a', 'b']), { message: /requires 1 or 2 arguments/ });
  t.throws(() => buildCommitRequest(['c', 'Upper']), { message: 'commit: invalid reference format "Upper": a lower-case name, like name or name:tag' });
  t.throws(() => buildCommitRequest(['c', `x@sha256:${'1'.repeat(64)}`]), { message: /refusing to create a tag with a digest reference/ });
  t.throws(() => buildCommitRequest(['--pause', 'c']), { message: /unknown flag/ });
});
