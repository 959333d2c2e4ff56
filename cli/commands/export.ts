/**
 * `nestbox export [-o FILE] CONTAINER`: the container's root file system as a tar. With -o the
 * storage service writes FILE itself (under a temporary name, renamed when complete); without,
 * it writes into a FIFO this command made and copies to stdout, which must not be a terminal.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

type Chunk = { started: true } | { done: true };

export function buildExportRequest(argv: string[], stdoutIsTerminal: boolean): { container: string; file?: string } {
  const { options, positionals } = parseArgs(argv, [{ name: 'output', short: 'o', takesValue: true }], { stopAtFirstPositional: false });
  if (positionals.length !== 1) throw new NestboxError('INVALID_ARGUMENT', '"nestbox export" requires exactly 1 argument: CONTAINER');
  const output = options.get('output')?.at(-1);
  if (output === undefined) {
    if (stdoutIsTerminal) throw new NestboxError('INVALID_ARGUMENT', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    return { container: positionals[0] };
  }
  if (output === '') throw new NestboxError('INVALID_ARGUMENT', 'export: -o needs a file name');
  const file = resolve(output);
  const isDir = (p: string) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (!isDir(dirname(file))) throw new NestboxError('INVALID_ARGUMENT', `export: cannot write ${output}: no such directory ${dirname(file)}`);
  if (isDir(file)) throw new NestboxError('INVALID_ARGUMENT', `export: cannot write ${output}: it is a directory`);
  return { container: positionals[0], file };
}

export async function exportCommand(argv: string[]): Promise<number> {
  const request = buildExportRequest(argv, process.stdout.isTTY === true);
  await ensureServices();
  const client = clientFor('lifecycle', 60_000);
  try {
    if (request.file !== undefined) {
      for await (const chunk of client.stream<Chunk>(LIFECYCLE.export, request)) if ('done' in chunk) return 0;
      throw new NestboxError('INTERNAL', 'the export ended without completing');
    }
    return await toStdout(request.container, (pattern, data) => client.stream<Chunk>(pattern, data));
  } finally {
    client.close();
  }
}

/** Through a FIFO in a private temporary directory, removed at the end. */
async function toStdout(container: string, stream: (pattern: string, data: unknown) => AsyncIterable<Chunk>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nestbox-export-'));
  let reader: Socket | undefined;
  let fd: number | undefined;
  try {
    const fifo = join(dir, 'tar');
    const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
    if (made.status !== 0) throw new NestboxError('INTERNAL', `mkfifo ${fifo}: ${made.stderr?.trim() || made.error?.message}`);
    // opened now, without waiting for a writer, so the service's open finds its reader
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    let copied: Promise<void> | undefined;
    for await (const chunk of stream(LIFECYCLE.export, { container, fifo })) {
      if ('started' in chunk && !copied) {
        const r = (reader = new Socket({ fd, readable: true, writable: false }));
        fd = undefined; // the socket's now
        copied = new Promise((res, rej) => {
          r.on('error', rej);
          process.stdout.once('error', rej); // a closed pipe: the export fails (tar sees EPIPE too)
          r.on('end', res);
          r.pipe(process.stdout, { end: false });
        });
      } else if ('done' in chunk) {
        await copied;
        return 0;
      }
    }
    throw new NestboxError('INTERNAL', 'the export ended without completing');
  } finally {
    reader?.destroy();
    if (fd !== undefined) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
