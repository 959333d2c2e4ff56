/** Container records on disk: a record that cannot be read (a power loss mid-write) hides no other. */
import test from 'ava';
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import { ContainerStore } from '../../services/lifecycle/container-store.js';

test('an empty record is skipped by list and find, and reported by unreadable', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nbx-store-'));
  try {
    const layout = new DataLayout(root).init();
    const store = new ContainerStore(layout);
    const fields = { image: 'busybox', imageId: 'sha256:' + 'a'.repeat(64), command: ['true'], hostname: '' };
    const kept = store.create({ ...fields, name: 'kept', autoRemove: false });
    const lost = store.create({ ...fields, name: 'lost', autoRemove: true });
    t.deepEqual(store.unreadable(), []);
    truncateSync(join(layout.container(lost.id), 'record.json'));
    t.deepEqual(store.list().map((c) => c.name), ['kept']);
    t.is(store.find('kept').id, kept.id);
    t.deepEqual(store.unreadable(), [lost.id]);
    store.remove(lost.id);
    t.deepEqual(store.unreadable(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
