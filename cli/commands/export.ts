/**
 * `nestbox export [-o FILE] CONTAINER`: the container's root file system as a tar. With -o the
 * storage service writes FILE itself (under a temporary name, renamed when complete); without,
 * it writes into a FIFO this command made, copied to stdout, which must not be a terminal
 * (cli/tar-output.ts, shared with save).
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { tarOutput, tarToFile, tarToStdout, type TarChunk } from '../tar-output.js';

export function buildExportRequest(argv: string[], stdoutIsTerminal: boolean): { container: string; file?: string } {
  const { options, positionals } = parseArgs(argv, [{ name: 'output', short: 'o', takesValue: true }], { stopAtFirstPositional: false });
  if (positionals.length !== 1) throw new NestboxError('INVALID_ARGUMENT', '"nestbox export" requires exactly 1 argument: CONTAINER');
  const file = tarOutput(options.get('output')?.at(-1), 'export', stdoutIsTerminal);
  return file === undefined ? { container: positionals[0] } : { container: positionals[0], file };
}

export async function exportCommand(argv: string[]): Promise<number> {
  const request = buildExportRequest(argv, process.stdout.isTTY === true);
  await ensureServices();
  const client = clientFor('lifecycle', 60_000);
  try {
    if (request.file !== undefined) return await tarToFile('export', client.stream<TarChunk>(LIFECYCLE.export, request));
    return await tarToStdout('export', (fifo) => client.stream<TarChunk>(LIFECYCLE.export, { container: request.container, fifo }));
  } finally {
    client.close();
  }
}
