import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import type { LogChunk, LogEntry } from '../../lib/contracts/types.js';
import { ContainerStore } from '../../services/lifecycle/container-store.js';
import type { ExitMonitor } from '../../services/lifecycle/exit-monitor.js';
import { LogFlow } from '../../services/lifecycle/log-flow.js';

function setup(lines: string[]) {
  const root = mkdtempSync(join(tmpdir(), 'nbx-logs-'));
  const store = new ContainerStore(new DataLayout(root).init());
  const c = store.create({ image: 'busybox', imageId: `sha256:${'a'.repeat(64)}`, command: ['true'], hostname: 'h', autoRemove: false });
  writeFileSync(join(store.layout.container(c.id), 'ctr.log'), lines.join(''));
  const flow = new LogFlow(store, {} as ExitMonitor);
  return { id: c.id, flow, done: () => rmSync(root, { recursive: true, force: true }) };
}

async function collect(chunks: AsyncIterable<LogChunk>): Promise<{ entries: LogEntry[]; chunks: number }> {
  const entries: LogEntry[] = [];
  let n = 0;
  for await (const c of chunks) {
    entries.push(...c.entries);
    n++;
  }
  return { entries, chunks: n };
}

const line = (log: string, stream = 'stdout') => `${JSON.stringify({ log, stream, time: '2026-12-05T10:00:00.1Z' })}\n`;

test('entries in order with their stream; a torn last line waits; a broken line is skipped', async (t) => {
  const { id, flow, done } = setup([line('a\n'), line('b\n', 'stderr'), 'not json\n', line('héllo ✓\n'), '{"log":"torn']);
  const { entries } = await collect(flow.logs(id.slice(0, 6), false));
  t.deepEqual(entries.map((e) => [e.stream, e.log]), [['stdout', 'a\n'], ['stderr', 'b\n'], ['stdout', 'héllo ✓\n']]);
  done();
});

test('--tail N: the last N entries; 0: none, still one (empty) first chunk', async (t) => {
  const { id, flow, done } = setup(Array.from({ length: 10 }, (_, i) => line(`${i}\n`)));
  t.deepEqual((await collect(flow.logs(id, false, 3))).entries.map((e) => e.log), ['7\n', '8\n', '9\n']);
  const none = await collect(flow.logs(id, false, 0));
  t.deepEqual(none, { entries: [], chunks: 1 });
  t.is((await collect(flow.logs(id, false, 100))).entries.length, 10);
  done();
});

test('a log of several MiB is read a slice at a time and sent in chunks below the cap; tail over it too', async (t) => {
  const big = 'x'.repeat(4000);
  const { id, flow, done } = setup(Array.from({ length: 2000 }, (_, i) => line(`${i} ${big}\n`)));
  const all = await collect(flow.logs(id, false));
  t.is(all.entries.length, 2000);
  t.is(all.entries[1999].log, `1999 ${big}\n`);
  t.true(all.chunks >= 30, `${all.chunks} chunks of at most ~256 KiB`);
  const last = await collect(flow.logs(id, false, 2));
  t.deepEqual(last.entries.map((e) => e.log.split(' ')[0]), ['1998', '1999']);
  done();
});

test('an unknown container is not found', async (t) => {
  const { flow, done } = setup([]);
  await t.throwsAsync(collect(flow.logs('nosuch', false)), { message: 'no such container: nosuch' });
  done();
});
