/**
 * `nestbox load [-i FILE] [-q]`: the images of a docker archive (`docker save`) or an OCI image
 * layout (a tar, or a directory with -i) into the store; prints docker's `Loaded image: REF`
 * lines. The storage service reads the input itself, as the calling user (it runs as them), like
 * import. Standard input (refused when a terminal) reaches it as a file: when stdin already is a
 * regular file (`< FILE`), through our /proc/PID/fd/0, else copied first into a private temporary
 * file (`$TMPDIR`, else /var/tmp, as podman does), removed on every way out. A file rather than a
 * FIFO because the archive is read out of order (docker writes manifest.json last) and a failing
 * load must not leave a writer blocked on a FIFO nobody reads.
 */
import { createWriteStream, fstatSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NAMESPACE, STORAGE } from '../../lib/contracts/patterns.js';
import type { IdMapInfo } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { maxLayerBytes } from './import.js';

/** a large image takes minutes to copy, verify and extract; the service answers once done */
const LOAD_TIMEOUT_MS = 6 * 3_600_000;

export interface LoadRequest { input?: string; quiet: boolean; maxBytes?: number }

export function buildLoadRequest(argv: string[], stdinIsTerminal: boolean, cwd = process.cwd()): LoadRequest {
  const { options, positionals } = parseArgs(argv, [
    { name: 'input', short: 'i', takesValue: true },
    { name: 'quiet', short: 'q', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length > 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox load" accepts no arguments (the archive comes with -i FILE or on stdin)');
  const input = options.get('input')?.at(-1);
  if (input === '') throw new NestboxError('INVALID_ARGUMENT', 'load: -i needs a file name');
  if (input === undefined && stdinIsTerminal) throw new NestboxError('INVALID_ARGUMENT', 'requested load from stdin, but stdin is a terminal: use -i FILE or redirect');
  const maxBytes = maxLayerBytes();
  return {
    quiet: options.has('quiet'),
    ...(input !== undefined ? { input: resolve(cwd, input) } : {}),
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  };
}

export async function loadCommand(argv: string[]): Promise<number> {
  const req = buildLoadRequest(argv, process.stdin.isTTY === true);
  const stdin = req.input === undefined ? await stdinAsFile() : undefined;
  try {
    await ensureServices();
    const namespace = clientFor('namespace');
    const storage = clientFor('storage', LOAD_TIMEOUT_MS);
    try {
      // layers are extracted for container root's host ids, as for a run
      const ids = await namespace.request<IdMapInfo>(NAMESPACE.idMap, {});
      const source = req.input ?? stdin!.path;
      const r = await storage.request<{ loaded: string[]; warnings: string[] }>(STORAGE.loadImages, {
        source, rootUid: ids.rootUid, rootGid: ids.rootGid, ...(req.maxBytes !== undefined ? { maxBytes: req.maxBytes } : {}),
      });
      for (const w of r.warnings) process.stderr.write(`nestbox: warning: ${w}\n`);
      // -q is docker's "no progress output": there is none, the result lines stay (as docker's)
      for (const line of r.loaded) process.stdout.write(`${line}\n`);
      return 0;
    } finally {
      namespace.close();
      storage.close();
    }
  } finally {
    stdin?.remove();
  }
}

/** Standard input as a path the service can open. */
async function stdinAsFile(): Promise<{ path: string; remove(): void }> {
  if (fstatSync(0).isFile()) return { path: `/proc/${process.pid}/fd/0`, remove: () => undefined };
  const dir = mkdtempSync(join(process.env.TMPDIR || '/var/tmp', 'nestbox-load-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.kill(process.pid, signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.once(s, onSignal);
  const path = join(dir, 'archive.tar');
  try {
    // process.stdin, not a read of fd 0: a socket or non-blocking pipe there answers EAGAIN
    await pipeline(process.stdin, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (err) {
    remove();
    throw new NestboxError('INVALID_ARGUMENT', `load: reading stdin: ${(err as Error).message}`);
  }
  return {
    path,
    remove: () => {
      for (const s of signals) process.removeListener(s, onSignal);
      remove();
    },
  };
}
