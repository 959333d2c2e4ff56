/**
 * `nestbox export [-o FILE] CONTAINER`: the container's root file system as a tar. With -o the
 * storage service writes FILE itself (under a temporary name, renamed when complete); without,
 * it writes into a FIFO this command made, copied to stdout, which must not be a terminal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
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

/**
 * Through a FIFO in a private temporary directory (removed at the end), copied to our stdout by
 * `cat` (a C loop: a third faster than a node stream into a file). Our own non-blocking read end,
 * open throughout but never read, lets the service open the FIFO whenever it is ready.
 */
async function toStdout(container: string, stream: (pattern: string, data: unknown) => AsyncIterable<Chunk>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nestbox-export-'));
  let fd: number | undefined;
  let cat: ChildProcess | undefined;
  try {
    const fifo = join(dir, 'tar');
    const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
    if (made.status !== 0) throw new NestboxError('INTERNAL', `mkfifo ${fifo}: ${made.stderr?.trim() || made.error?.message}`);
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const copier = (cat = spawn('cat', [fifo], { stdio: ['ignore', 'inherit', 'pipe'] }));
    let said = '';
    copier.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    const copied = new Promise<void>((res, rej) => {
      copier.on('error', (err) => rej(new NestboxError('INTERNAL', `export: cat: ${err.message}`)));
      copier.on('close', (code, signal) => (code === 0 ? res() : rej(new NestboxError('INTERNAL', `export: writing stdout: ${said.trim().split('\n').at(-1) || signal || `exit ${code}`}`))));
    });
    copied.catch(() => undefined); // awaited below; an early failure must not go unhandled meanwhile
    for await (const chunk of stream(LIFECYCLE.export, { container, fifo })) {
      if ('done' in chunk) {
        await copied;
        return 0;
      }
    }
    throw new NestboxError('INTERNAL', 'the export ended without completing');
  } finally {
    if (cat && cat.exitCode === null && cat.signalCode === null) cat.kill('SIGKILL');
    if (fd !== undefined) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
