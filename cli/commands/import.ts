/**
 * `nestbox import FILE [REF]`: a flat rootfs tar (plain or gzip) as a one-layer image; prints its
 * id as docker does. The storage service reads FILE itself (as the calling user: it runs as
 * them), so the path goes over the wire, made absolute here.
 */
import { resolve } from 'node:path';
import { NAMESPACE, STORAGE } from '../../lib/contracts/patterns.js';
import type { IdMapInfo } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

/** a large layer takes minutes to decompress, hash and extract; the service answers once done */
const IMPORT_TIMEOUT_MS = 6 * 3_600_000;

/** The cap on a layer's uncompressed size, from NESTBOX_MAX_LAYER_BYTES (bytes, or 512m, 2g...). */
export function maxLayerBytes(): number | undefined {
  const raw = process.env.NESTBOX_MAX_LAYER_BYTES;
  if (raw === undefined || raw === '') return undefined;
  const m = /^(\d+)([kmgt]?)$/i.exec(raw.trim());
  const n = m ? Number(m[1]) * 1024 ** 'bkmgt'.indexOf((m[2] || 'b').toLowerCase()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1024) {
    throw new NestboxError('INVALID_ARGUMENT', `NESTBOX_MAX_LAYER_BYTES must be a size of at least 1024 bytes (e.g. 1048576, 512m, 64g), got '${raw}'`);
  }
  return n;
}

export interface ImportRequest { source: string; ref?: string; maxBytes?: number }

export function buildImportRequest(argv: string[], cwd = process.cwd()): ImportRequest {
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: false });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new NestboxError('INVALID_ARGUMENT', '"nestbox import" requires 1 or 2 arguments: FILE [REFERENCE]');
  }
  const [file, ref] = positionals;
  if (file === '-') throw new NestboxError('UNIMPLEMENTED', 'import from standard input is not supported: give a file');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw new NestboxError('UNIMPLEMENTED', `import from a URL is not supported: ${file}`);
  const maxBytes = maxLayerBytes();
  return { source: resolve(cwd, file), ...(ref !== undefined ? { ref } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) };
}

export async function importCommand(argv: string[]): Promise<number> {
  const req = buildImportRequest(argv);
  await ensureServices();
  const namespace = clientFor('namespace');
  const storage = clientFor('storage', IMPORT_TIMEOUT_MS);
  try {
    // layers are extracted for container root's host ids, as for a run
    const ids = await namespace.request<IdMapInfo>(NAMESPACE.idMap, {});
    const r = await storage.request<{ id: string; warnings: string[] }>(STORAGE.importImage, { ...req, rootUid: ids.rootUid, rootGid: ids.rootGid });
    for (const w of r.warnings) process.stderr.write(`nestbox: warning: ${w}\n`);
    process.stdout.write(`${r.id}\n`);
    return 0;
  } finally {
    namespace.close();
    storage.close();
  }
}
