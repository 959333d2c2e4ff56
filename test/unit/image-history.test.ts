import test from 'ava';
import { imageHistory } from '../../services/storage/image-history.js';
import type { OciImageConfig } from '../../services/storage/image-store.js';
import { historyOutput } from '../../cli/commands/history.js';

// CreatedAt is in the local zone: these expectations are written for UTC
process.env.TZ = 'UTC';

const id = `sha256:${'ab'.repeat(32)}`;
const config: OciImageConfig = {
  architecture: 'amd64', os: 'linux', created: '2026-01-02T00:00:00Z', config: {},
  rootfs: { type: 'layers', diff_ids: ['sha256:l1', 'sha256:l2'] },
  history: [
    { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
    { created: '2026-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true } as never,
    { created: '2026-01-02T00:00:00Z', created_by: 'sh -c echo hi > /f', comment: 'mine' },
  ],
};
const sizes: Record<string, number> = { 'sha256:l1': 4_260_000, 'sha256:l2': 1536 };

test('history: newest first, the image id on top, layers to the steps that made them', (t) => {
  t.deepEqual(imageHistory(id, config, (d) => sizes[d]), [
    { id, created: '2026-01-02T00:00:00Z', createdBy: 'sh -c echo hi > /f', size: 1536, comment: 'mine' },
    { id: '<missing>', created: '2026-01-01T00:00:01Z', createdBy: '/bin/sh -c #(nop)  CMD ["sh"]', size: 0, comment: '' },
    { id: '<missing>', created: '2026-01-01T00:00:00Z', createdBy: '/bin/sh -c #(nop) ADD file:abc in / ', size: 4_260_000, comment: '' },
  ]);
  const bare = imageHistory(id, { ...config, history: undefined }, (d) => sizes[d]);
  t.deepEqual(bare.map((r) => [r.id, r.size]), [[id, 1536], ['<missing>', 4_260_000]], 'no history: a row per layer');
});

test("history's table, -q, --no-trunc, -H=false and templates, as docker's", (t) => {
  const rows = imageHistory(id, config, (d) => sizes[d]);
  const now = Date.parse('2026-01-02T00:00:30Z');
  t.is(historyOutput(rows, { quiet: false, noTrunc: false, human: true }, now),
    // columns as wide as their widest cell plus 3 (CREATED BY is cut at 45 characters)
    'IMAGE          CREATED          CREATED BY                             SIZE      COMMENT\n' +
    'abababababab   30 seconds ago   sh -c echo hi > /f                     1.54kB    mine\n' +
    '<missing>      24 hours ago     /bin/sh -c #(nop)  CMD ["sh"]          0B\n' +
    '<missing>      24 hours ago     /bin/sh -c #(nop) ADD file:abc in /    4.26MB\n');
  t.is(historyOutput(rows, { quiet: true, noTrunc: false, human: true }), 'abababababab\n<missing>\n<missing>\n');
  t.is(historyOutput(rows.slice(0, 1), { quiet: false, noTrunc: true, human: false, format: '{{.ID}} {{.Size}} {{.CreatedAt}}' }), `${id} 1536 2026-01-02T00:00:00Z\n`);
  const long = [{ id, createdBy: 'x'.repeat(60), size: 0, comment: '' }];
  t.is(historyOutput(long, { quiet: false, noTrunc: false, human: true, format: '{{.CreatedBy}}' }), `${'x'.repeat(44)}…\n`);
});
