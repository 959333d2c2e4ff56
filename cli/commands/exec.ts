/** `nestbox exec [OPTIONS] CONTAINER COMMAND [ARG...]` */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { PROCESS_SPECS, processOptions } from '../process-options.js';
import { consoleSize, relay, requireTerminalInput } from '../attach-relay.js';
import { clientFor, ensureServices } from '../services.js';
import { followProcessStream } from '../process-stream.js';

export function buildExecRequest(argv: string[]): Record<string, unknown> {
  const { options, positionals } = parseArgs(argv, PROCESS_SPECS, { stopAtFirstPositional: true });
  const [container, ...args] = positionals;
  if (!container || args.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox exec" requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
  return { container, args, ...processOptions(options) };
}

export async function execCommand(argv: string[]): Promise<number> {
  const request = buildExecRequest(argv);
  requireTerminalInput(request);
  Object.assign(request, consoleSize(request));
  await ensureServices();
  const client = clientFor('lifecycle', 60_000);
  try {
    return await followProcessStream(client.stream<RunChunk>(LIFECYCLE.exec, request), 'exec', (chunk) => {
      // -d: docker prints nothing and leaves the process running
      if (request.detach) return 0;
      return chunk.attach ? attached(chunk.attach, request) : undefined;
    });
  } finally {
    client.close();
  }
}

/** -i / -t: stdio straight through the exec's shim, whose exit frame carries the exit code. */
async function attached(socket: string, request: Record<string, unknown>): Promise<number> {
  const { exit, detached } = await relay({ socket, stdin: request.interactive === true, tty: request.tty === true });
  if (detached) return 0; // Ctrl-P Ctrl-Q: the process runs on
  if (!exit) throw new NestboxError('INTERNAL', "the exec's shim ended without an exit status");
  if (exit.error) process.stderr.write(`nestbox: ${exit.error}\n`);
  return exit.exitCode;
}
