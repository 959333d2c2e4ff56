/**
 * Where a tar the storage service writes goes (export, save): `-o FILE` is resolved here and
 * written by the service itself (under a temporary name, renamed when complete); without it, the
 * service writes into a FIFO made here and copied to our stdout, which must not be a terminal.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { NestboxError } from '../lib/errors.js';

export type TarChunk = { started: true } | { done: true };

/** The absolute FILE of `-o`, or undefined for stdout (refused on a terminal, as docker). */
export function tarOutput(output: string | undefined, verb: string, stdoutIsTerminal: boolean): string | undefined {
  if (output === undefined) {
    if (stdoutIsTerminal) throw new NestboxError('INVALID_ARGUMENT', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    return undefined;
  }
  if (output === '') throw new NestboxError('INVALID_ARGUMENT', `${verb}: -o needs a file name`);
  const file = resolve(output);
  const isDir = (p: string) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (!isDir(dirname(file))) throw new NestboxError('INVALID_ARGUMENT', `${verb}: cannot write ${output}: no such directory ${dirname(file)}`);
  if (isDir(file)) throw new NestboxError('INVALID_ARGUMENT', `${verb}: cannot write ${output}: it is a directory`);
  return file;
}

/** Until the service's `done`: with a file it wrote the file itself. */
export async function tarToFile(verb: string, chunks: AsyncIterable<TarChunk>): Promise<number> {
  for await (const chunk of chunks) if ('done' in chunk) return 0;
  throw new NestboxError('INTERNAL', `the ${verb} ended without completing`);
}

/**
 * Through a FIFO in a private temporary directory (removed at the end), copied to our stdout by
 * `cat` (a C loop: a third faster than a node stream into a file). Our own non-blocking read end,
 * open throughout but never read, lets the service open the FIFO whenever it is ready.
 */
export async function tarToStdout(verb: string, start: (fifo: string) => AsyncIterable<TarChunk>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `nestbox-${verb}-`));
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
      copier.on('error', (err) => rej(new NestboxError('INTERNAL', `${verb}: cat: ${err.message}`)));
      copier.on('close', (code, signal) => (code === 0 ? res() : rej(new NestboxError('INTERNAL', `${verb}: writing stdout: ${said.trim().split('\n').at(-1) || signal || `exit ${code}`}`))));
    });
    copied.catch(() => undefined); // awaited below; an early failure must not go unhandled meanwhile
    for await (const chunk of start(fifo)) {
      if ('done' in chunk) {
        await copied;
        return 0;
      }
    }
    throw new NestboxError('INTERNAL', `the ${verb} ended without completing`);
  } finally {
    if (cat && cat.exitCode === null && cat.signalCode === null) cat.kill('SIGKILL');
    if (fd !== undefined) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
