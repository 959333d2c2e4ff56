import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LayerDownloads } from '../../services/storage/layer-downloads.js';

const desc = (n: number) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 10 });

/** A fetch the test finishes by hand: writes the file, reports bytes, resolves or fails on request. */
function manualFetch() {
  const started: string[] = [];
  const pending = new Map<string, { file: string; onBytes: (n: number) => void; resolve: () => void; reject: (e: Error) => void }>();
  const fetch = (d: { digest: string }, file: string, onBytes: (n: number) => void) => new Promise<void>((resolve, reject) => {
    started.push(d.digest);
    writeFileSync(file, 'partial');
    pending.set(d.digest, { file, onBytes, resolve, reject });
  });
  return { fetch, started, pending };
}

const tick = () => new Promise((r) => setImmediate(r));

test('three at a time, each blob once, progress and completion reported once each', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-dl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = manualFetch();
  const d = new LayerDownloads(f.fetch, dir, 3);
  for (const n of [1, 2, 1, 3, 4]) d.add(desc(n));
  t.deepEqual(d.start().map((x) => x.digest), [desc(4).digest], 'the fourth waits');
  t.is(f.started.length, 3);
  f.pending.get(desc(2).digest)!.onBytes(5);
  t.deepEqual(d.changes().filter((c) => 'layer' in c && c.status === 'Downloading' && c.current === 5).length, 1);
  f.pending.get(desc(2).digest)!.resolve();
  await tick();
  t.is(f.started.length, 4, 'the waiting one started when a slot freed');
  const done = d.changes().filter((c) => 'layer' in c && c.layer === desc(2).digest.slice(7, 19)).map((c) => ('layer' in c ? c.status : ''));
  t.deepEqual(done, ['Downloading', 'Verifying Checksum', 'Download complete']);
  t.deepEqual(d.changes().filter((c) => 'layer' in c && c.layer === desc(2).digest.slice(7, 19)), [], 'reported once');
  t.true(existsSync(await d.file(desc(2).digest)));
  for (const n of [1, 3, 4]) f.pending.get(desc(n).digest)!.resolve();
  await d.cleanup();
  t.deepEqual(readdirSync(dir), []);
});

test('the first failure stops the pull; cleanup waits for what is in flight and removes every file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-dl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = manualFetch();
  const d = new LayerDownloads(f.fetch, dir, 2);
  for (const n of [1, 2, 3]) d.add(desc(n));
  d.start();
  f.pending.get(desc(2).digest)!.reject(new Error('blob 2 failed verification'));
  await tick();
  t.throws(() => d.changes(), { message: 'blob 2 failed verification' });
  await t.throwsAsync(d.file(desc(2).digest), { message: 'blob 2 failed verification' });
  t.is(f.started.length, 2, 'nothing new starts after a failure');
  const cleaned = d.cleanup();
  f.pending.get(desc(1).digest)!.reject(new Error('aborted'));
  await cleaned;
  t.deepEqual(readdirSync(dir), []);
});
