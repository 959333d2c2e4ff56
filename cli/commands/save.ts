/**
 * `nestbox save [-o FILE] IMAGE...`: images (by reference or id) as one docker archive, which
 * `nestbox load`, docker and skopeo read. The storage service writes it: to FILE (temporary name,
 * renamed when complete) or, without -o, into a FIFO copied to stdout (cli/tar-output.ts).
 */
import { STORAGE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { tarOutput, tarToFile, tarToStdout, type TarChunk } from '../tar-output.js';

export function buildSaveRequest(argv: string[], stdoutIsTerminal: boolean): { images: string[]; file?: string } {
  const { options, positionals } = parseArgs(argv, [{ name: 'output', short: 'o', takesValue: true }], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox save" requires at least 1 argument: IMAGE...');
  const file = tarOutput(options.get('output')?.at(-1), 'save', stdoutIsTerminal);
  return file === undefined ? { images: positionals } : { images: positionals, file };
}

export async function saveCommand(argv: string[]): Promise<number> {
  const request = buildSaveRequest(argv, process.stdout.isTTY === true);
  await ensureServices();
  const client = clientFor('storage', 60_000);
  try {
    if (request.file !== undefined) return await tarToFile('save', client.stream<TarChunk>(STORAGE.saveImages, request));
    return await tarToStdout('save', (fifo) => client.stream<TarChunk>(STORAGE.saveImages, { images: request.images, fifo }));
  } finally {
    client.close();
  }
}
