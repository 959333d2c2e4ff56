/**
 * The pure parts of images / rmi / system df: docker's units, rmi's decisions, the df sums and
 * tables, and the image store's untag/remove/lookup with garbage collection on a temporary
 * data root (files of this user only: the keeper's part is the e2e tests').
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { goFormatG, humanSize } from '../../cli/commands/units.js';
import { imagesOutput, splitRef } from '../../cli/commands/images.js';
import { removalLines } from '../../cli/commands/rmi.js';
import { ago } from '../../cli/commands/table.js';
import { dfOutput } from '../../cli/commands/system-df.js';
import { planRemoval, repositoryOf } from '../../services/lifecycle/image-flow.js';
import { composeDiskUsage } from '../../services/lifecycle/disk-usage.js';
import type { ContainerRecord } from '../../services/lifecycle/container-store.js';
import { DataLayout } from '../../lib/data-layout.js';
import { ImageStore, type OciImageConfig } from '../../services/storage/image-store.js';
import { LayerStore } from '../../services/storage/layer-store.js';
import { FRESH_MS, ImageGc, referenced } from '../../services/storage/image-gc.js';
import { plainRemover } from '../../services/storage/tree-remover.js';
import { sumFindOutput, treeSize } from '../../services/storage/disk-usage.js';

// CreatedAt is in the local zone: these expectations are written for UTC
process.env.TZ = 'UTC';

const now = Date.parse('2026-01-02T00:00:00Z');

test('sizes in docker\'s units: decimal, 3 significant digits for images, 4 for df, Go\'s %g', (t) => {
  t.is(humanSize(0), '0B');
  t.is(humanSize(738), '738B');
  t.is(humanSize(4_264_000), '4.26MB');
  t.is(humanSize(12_000), '12kB');
  t.is(humanSize(1_240_000_000), '1.24GB');
  t.is(humanSize(999_999), '1e+03kB', 'as docker prints it');
  t.is(humanSize(16_434_000, 4), '16.43MB');
  t.is(humanSize(200_000, 4), '200kB');
  t.is(goFormatG(0.5, 3), '0.5');
});

test('ages beyond two days as docker words them', (t) => {
  const days = (n: number) => new Date(now - n * 86_400_000).toISOString();
  t.is(ago(days(3), now), '3 days ago');
  t.is(ago(days(20), now), '2 weeks ago');
  t.is(ago(days(100), now), '3 months ago');
  t.is(ago(days(1069), now), '2 years ago');
});

test('references split at the tag, a registry port stays in the repository', (t) => {
  t.deepEqual(splitRef('busybox:latest'), ['busybox', 'latest']);
  t.deepEqual(splitRef('localhost:5000/a/b:v1'), ['localhost:5000/a/b', 'v1']);
  t.deepEqual(splitRef(undefined), ['<none>', '<none>']);
  t.is(repositoryOf('localhost:5000/a/b:v1'), 'localhost:5000/a/b');
  t.is(repositoryOf('busybox'), 'busybox');
});

const id = `sha256:${'ab'.repeat(32)}`;

test('images: docker\'s columns; -q and --no-trunc', (t) => {
  const list = [{ id, ref: 'busybox:latest', created: '2026-01-01T23:59:00Z', size: 4_264_000 }, { id, size: 0 }];
  t.is(imagesOutput(list, { quiet: false, noTrunc: false }, now),
    // docker's tabwriter: columns at least 10 wide ("TAG       ")
    'REPOSITORY   TAG       IMAGE ID       CREATED              SIZE\n' +
    'busybox      latest    abababababab   About a minute ago   4.26MB\n' +
    '<none>       <none>    abababababab   N/A                  0B\n');
  t.is(imagesOutput(list.slice(0, 1), { quiet: false, noTrunc: false, format: 'json' }, now),
    '{"Containers":"N/A","CreatedAt":"2026-01-01 23:59:00 +0000 UTC","CreatedSince":"About a minute ago","Digest":"<none>","ID":"abababababab",' +
    '"Repository":"busybox","SharedSize":"N/A","Size":"4.26MB","Tag":"latest","UniqueSize":"N/A","VirtualSize":"4.26MB"}\n');
  t.is(imagesOutput(list, { quiet: false, noTrunc: false, format: '{{.Repository}}:{{.Tag}}' }, now), 'busybox:latest\n<none>:<none>\n');
  t.throws(() => imagesOutput([], { quiet: false, noTrunc: false, format: '{{.Nope' }));
  t.is(imagesOutput(list, { quiet: true, noTrunc: false }), 'abababababab\nabababababab\n');
  t.is(imagesOutput(list.slice(1), { quiet: true, noTrunc: true }), `${id}\n`);
  t.is(removalLines({ untagged: ['a:1'], deleted: [id] }), `Untagged: a:1\nDeleted: ${id}\n`);
});

const record = (over: Partial<ContainerRecord>): ContainerRecord => ({
  id: 'c'.repeat(64), name: 'c', image: 'a:1', imageId: id, command: ['true'], hostname: 'h', createdAt: '2026-01-01T00:00:00Z', state: 'exited', autoRemove: false, ...over,
});

test('rmi by reference: untag only while other tags remain; the last tag needs -f while a container uses it, and the image stays', (t) => {
  t.deepEqual(planRemoval('a', { id, refs: ['a:latest', 'b:1'], ref: 'a:latest' }, [record({})], false), { untag: ['a:latest'], delete: false });
  t.deepEqual(planRemoval('a', { id, refs: ['a:latest'], ref: 'a:latest' }, [], false), { untag: ['a:latest'], delete: true });
  t.throws(() => planRemoval('a', { id, refs: ['a:latest'], ref: 'a:latest' }, [record({})], false), {
    message: `conflict: unable to remove repository reference "a" (must force) - container cccccccccccc is using its referenced image abababababab`,
  });
  t.deepEqual(planRemoval('a', { id, refs: ['a:latest'], ref: 'a:latest' }, [record({ state: 'running' })], true), { untag: ['a:latest'], delete: false });
});

test('rmi by id: every tag and the image; conflicts as docker words them', (t) => {
  t.deepEqual(planRemoval('abab', { id, refs: ['a:1', 'a:2'] }, [], false), { untag: ['a:1', 'a:2'], delete: true });
  t.throws(() => planRemoval('abab', { id, refs: ['a:1', 'b:1'] }, [], false), { message: 'conflict: unable to delete abababababab (must be forced) - image is referenced in multiple repositories' });
  t.deepEqual(planRemoval('abab', { id, refs: ['a:1', 'b:1'] }, [], true), { untag: ['a:1', 'b:1'], delete: true });
  t.throws(() => planRemoval('abab', { id, refs: [] }, [record({ state: 'running' })], true), { message: /\(cannot be forced\) - image is being used by running container cccccccccccc$/ });
  t.throws(() => planRemoval('abab', { id, refs: [] }, [record({ state: 'created' })], false), { message: /\(must be forced\) - image is being used by stopped container cccccccccccc$/ });
  t.deepEqual(planRemoval('abab', { id, refs: ['a:1'] }, [record({})], true), { untag: ['a:1'], delete: false }, 'forced: stays as <none> for its container');
});

test('system df: shared layers count once; reclaimable is what no container needs', (t) => {
  const other = `sha256:${'cd'.repeat(32)}`;
  const usage = {
    images: [{ id, refs: ['a:1'], layers: ['l1', 'l2'] }, { id: other, refs: [], layers: ['l1', 'l3'] }],
    layers: { l1: 1000, l2: 200, l3: 30 },
    containers: { ['c'.repeat(64)]: 5000, ['d'.repeat(64)]: 7 },
    volumes: [{ name: 'v', size: 300 }, { name: 'w', size: 4 }],
  };
  const records = [
    record({ volumes: [{ kind: 'volume', source: 'v', destination: '/v', readonly: false }] }),
    record({ id: 'd'.repeat(64), state: 'running' }),
  ];
  const u = composeDiskUsage(usage, records);
  t.like(u.images, { total: 2, active: 1, size: 1230, reclaimable: 30 });
  t.like(u.images.rows[0], { size: 1200, shared: 1000, unique: 200, containers: 2 });
  t.like(u.containers, { total: 2, active: 1, size: 5007, reclaimable: 5000 });
  t.like(u.volumes, { total: 2, active: 1, size: 304, reclaimable: 4 });
  const cells = dfOutput(u, false).trimEnd().split('\n').map((l) => l.split(/ {2,}/));
  t.deepEqual(cells, [
    ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
    ['Images', '2', '1', '1.23kB', '30B (2%)'],
    ['Containers', '2', '1', '5.007kB', '5kB (99%)'],
    ['Local Volumes', '2', '1', '304B', '4B (1%)'],
  ]);
  t.regex(dfOutput(composeDiskUsage({ images: [], layers: {}, containers: {}, volumes: [] }, []), false), /^Images +0 +0 +0B +0B$/m, 'no percentage of nothing');
});

/** A data root with images written as the storage service writes them (layer dirs made by hand). */
function store() {
  const root = mkdtempSync(join(tmpdir(), 'nbx-hk-unit-'));
  const layout = new DataLayout(root).init();
  const images = new ImageStore(layout);
  images.init();
  const layers = new LayerStore(layout, { extract: async () => ({ squashed: 0, skipped: [] }) });
  const addLayer = (content: string) => {
    const blob = images.putBlob(Buffer.from(content));
    mkdirSync(layout.layer(blob.digest));
    writeFileSync(join(layout.layer(blob.digest), 'f'), content);
    return blob;
  };
  const image = (ref: string | undefined, ...ls: { digest: string; size: number }[]) => {
    const config: OciImageConfig = { architecture: 'amd64', os: 'linux', created: new Date().toISOString(), config: {}, rootfs: { type: 'layers', diff_ids: ls.map((l) => l.digest) }, history: [{ created_by: ref ?? Math.random().toString() }] };
    return images.tag(ref, config, ls).id;
  };
  return { root, layout, images, layers, addLayer, image, gc: new ImageGc(layout, images, layers, plainRemover), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('lookup: reference, full id, bare hex, unique prefix; ambiguous and unknown', (t) => {
  const s = store();
  try {
    const l = s.addLayer('one');
    const a = s.image('a:1', l);
    s.images.tag('b', Buffer.from(JSON.stringify(s.images.configOf(a))), [l]);
    t.deepEqual(s.images.lookup('a:1'), { id: a, refs: ['a:1', 'b:latest'], ref: 'a:1' });
    t.deepEqual(s.images.lookup('b'), { id: a, refs: ['a:1', 'b:latest'], ref: 'b:latest' });
    t.is(s.images.lookup(a).id, a);
    t.is(s.images.lookup(a.slice(7)).id, a);
    t.is(s.images.lookup(a.slice(7, 10)).id, a);
    t.throws(() => s.images.lookup('nope'), { message: 'No such image: nope' });
    let other = '';
    // two hex digits: one could be the name of the tag b (lookup takes a reference first, as docker)
    for (let i = 0; other.slice(7, 9) !== a.slice(7, 9); i++) other = `sha256:${createHash('sha256').update(String(i)).digest('hex')}`;
    writeFileSync(s.layout.blob(other), JSON.stringify({ rootfs: { diff_ids: [] } }));
    const man = s.images.putBlob(Buffer.from(JSON.stringify({ config: { digest: other } })));
    const index = JSON.parse(readFileSync(join(s.layout.images, 'index.json'), 'utf8'));
    index.manifests.push({ mediaType: 'x', ...man });
    writeFileSync(join(s.layout.images, 'index.json'), JSON.stringify(index));
    t.throws(() => s.images.lookup(a.slice(7, 9)), { message: /is ambiguous: it matches 2 images/ });
  } finally {
    s.cleanup();
  }
});

test('byId: an image the index names, tagged or not; another store\'s writes are seen', (t) => {
  const s = store();
  try {
    const l = s.addLayer('by-id');
    const a = s.image('a:1', l);
    const found = s.images.byId(a);
    t.is(found?.id, a);
    t.deepEqual(found?.config.rootfs.diff_ids, [l.digest]);
    t.is(s.images.byId(`sha256:${'0'.repeat(64)}`), undefined);
    t.is(s.images.byId(a.slice(0, 20)), undefined, 'a full id only, no prefix');
    // the service's store and another process's (a second ImageStore) on one index
    const other = new ImageStore(s.layout);
    t.true(other.untag('a:1', true));
    t.is(s.images.byId(a)?.id, a, 'untagged, still in the index as <none>');
    other.remove(a);
    t.is(s.images.byId(a), undefined, 'removed by the other store');
    t.throws(() => s.images.lookup(a), { message: `No such image: ${a}` });
    const b = s.image('b:1', l);
    t.deepEqual(other.lookup('b:1'), { id: b, refs: ['b:1'], ref: 'b:1' }, 'and the other way round');
  } finally {
    s.cleanup();
  }
});

test('garbage collection: what no image, container or fresh write names goes; shared layers stay', async (t) => {
  const s = store();
  try {
    const shared = s.addLayer('shared');
    const own = s.addLayer('own');
    const a = s.image('a:1', shared, own);
    const b = s.image('b:1', shared);
    t.is(s.images.written.size, 0, 'tagging releases the fresh marks');
    const aBlobs = s.images.entries().find((e) => e.id === a)!.blobs;
    t.deepEqual(s.images.remove(a), ['a:1']);
    const gone = await s.gc.collect([]);
    t.deepEqual(gone.layers, [own.digest]);
    t.deepEqual([...gone.blobs].sort(), aBlobs.filter((d) => d !== shared.digest).sort());
    t.false(existsSync(s.layout.layer(own.digest)));
    t.true(existsSync(s.layout.layer(shared.digest)));
    t.deepEqual(readdirSync(s.layout.layers).filter((n) => n.startsWith('.')), [], 'the .remove- dir is deleted');

    // a container's image keeps its layers even out of the index; a fresh, untagged layer stays until it ages
    const sBlobs = s.images.entries().find((e) => e.id === b)!.blobs;
    s.images.remove(b);
    t.deepEqual(await s.gc.collect([b]), { blobs: [sBlobs[0]], layers: [] }, 'only the manifest goes');
    const fresh = s.addLayer('fresh');
    t.true(referenced(s.images, s.layers, []).layers.has(fresh.digest));
    t.false(referenced(s.images, s.layers, [], Date.now() + FRESH_MS + 1).layers.has(fresh.digest), 'abandoned after FRESH_MS');
    const last = await s.gc.collect([]);
    t.deepEqual([...last.layers].sort(), [shared.digest, fresh.digest].sort());
  } finally {
    s.cleanup();
  }
});

test('untag keeps a used image as <none>; re-tagging leaves the old image untagged', (t) => {
  const s = store();
  try {
    const l = s.addLayer('x');
    const a = s.image('a:1', l);
    t.true(s.images.untag('a:1', true));
    t.deepEqual(s.images.list().map((i) => [i.id, i.ref]), [[a, undefined]]);
    t.false(s.images.untag('a:1', true), 'gone already');
    s.images.tag('a:1', s.images.configOf(a)!, [l]);
    t.deepEqual(s.images.list().map((i) => i.ref), ['a:1'], 'tagging it again replaces its <none> entry');
    const b = s.image('a:1', l);
    t.deepEqual(s.images.list().map((i) => [i.id, i.ref ?? '<none>']).sort(), [[a, '<none>'], [b, 'a:1']].sort());
  } finally {
    s.cleanup();
  }
});

test('leftovers: .extract-/.remove- dirs except running extractions', async (t) => {
  const s = store();
  try {
    mkdirSync(join(s.layout.layers, '.remove-aaaaaaaaaaaa-00000000'));
    mkdirSync(join(s.layout.layers, '.extract-xyz'));
    writeFileSync(join(s.layout.tmp, 'import-0123456789ab.tar'), 'x');
    writeFileSync(join(s.layout.tmp, 'keep-me'), 'x');
    s.gc.sweepTemporaries();
    t.deepEqual(readdirSync(s.layout.tmp), ['keep-me']);
    // an extraction under way: its staging dir is no leftover, and its layer is not collected
    let finish = () => {};
    const slow = new LayerStore(s.layout, { extract: () => new Promise((resolve) => (finish = () => resolve({ squashed: 0, skipped: [] }))) });
    const gc = new ImageGc(s.layout, s.images, slow, plainRemover);
    const diffId = `sha256:${'e'.repeat(64)}`;
    const extracting = slow.extract('/dev/null', diffId, { uid: 0, gid: 0 });
    await gc.sweep();
    const left = readdirSync(s.layout.layers);
    t.is(left.length, 1);
    t.regex(left[0], /^\.extract-/);
    s.images.written.clear();
    t.true(referenced(s.images, slow, []).layers.has(diffId));
    finish();
    await extracting;
    t.deepEqual(readdirSync(s.layout.layers), ['e'.repeat(64)]);
  } finally {
    s.cleanup();
  }
});

test('tree sizes as docker measures: files and symlinks, hard links once, directories not', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-size-'));
  try {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'a'), 'x'.repeat(100));
    linkSync(join(dir, 'd', 'a'), join(dir, 'b'));
    symlinkSync('target', join(dir, 'l'));
    writeFileSync(join(dir, 'empty'), '');
    t.deepEqual(treeSize(dir), { bytes: 106, complete: true });
    t.deepEqual(treeSize(join(dir, 'missing')), { bytes: 0, complete: true });
    t.is(sumFindOutput('2049:12 2 100\n2049:12 2 100\n2049:13 1 6\n'), 106);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
