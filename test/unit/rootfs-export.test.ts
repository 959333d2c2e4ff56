import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeeperInfo } from '../../lib/contracts/types.js';
import { RootfsExporter, exportTarget, type ExportJob } from '../../services/storage/rootfs-export.js';

const keeper = async (): Promise<KeeperInfo> => ({ pid: 1, startTime: 1, uidMappings: [], gidMappings: [], started: false });

async function drain(exporter: RootfsExporter, job: ExportJob): Promise<string[]> {
  const seen: string[] = [];
  for await (const chunk of exporter.export(job)) seen.push(Object.keys(chunk)[0]);
  return seen;
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-export-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a failed export leaves neither FILE nor its temporary file, and says which step failed', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'out.tar');
  writeFileSync(file, 'an older export'); // replaced only by a complete one
  // /bin/false stands for a join whose tar fails
  const exporter = new RootfsExporter(keeper, () => 'kernel', '/bin/false');
  await t.throwsAsync(drain(exporter, { lowerDirs: ['/a', '/b'], mountPoint: '/m', target: { file } }), { message: 'export: writing the tar in the keeper namespace: exit 1' });
  t.deepEqual(readdirSync(dir), ['out.tar']);
});

test('a complete export is renamed into place after `started`, then `done`', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'out.tar');
  const exporter = new RootfsExporter(keeper, () => 'kernel', '/bin/true');
  t.deepEqual(await drain(exporter, { lowerDirs: ['/a', '/b'], mountPoint: '/m', target: { file } }), ['started', 'done']);
  t.deepEqual(readdirSync(dir), ['out.tar']);
});

test('bad targets and layer paths are refused by name', async (t) => {
  const dir = tempDir(t);
  const exporter = new RootfsExporter(keeper, () => 'kernel', '/bin/true');
  await t.throwsAsync(drain(exporter, { lowerDirs: ['/a', '/b'], mountPoint: '/m', target: { file: join(dir, 'no/x.tar') } }), { message: `export: cannot write ${dir}/no/x.tar: no such directory` });
  await t.throwsAsync(drain(exporter, { lowerDirs: ['/a,b', '/b'], mountPoint: '/m', target: { file: join(dir, 'x.tar') } }), { message: /layer path "\/a,b" contains/ });
  await t.throwsAsync(drain(exporter, { lowerDirs: ['/a', '/b'], mountPoint: '/m', target: { fifo: join(dir, 'x.tar') } }), { message: /^export: .*x\.tar: ENOENT/ });
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  await t.throwsAsync(drain(exporter, { lowerDirs: ['/a', '/b'], mountPoint: '/m', target: { fifo } }), { message: /^export: nobody reads .*fifo: ENXIO/ });
  t.throws(() => exportTarget({}), { message: 'export needs exactly one of file and fifo' });
  t.throws(() => exportTarget({ file: '/a', fifo: '/b' }), { message: 'export needs exactly one of file and fifo' });
  t.deepEqual(readdirSync(dir), ['fifo']);
});
