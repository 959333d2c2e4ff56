/** `nestbox exec [OPTIONS] CONTAINER COMMAND [ARG...]` */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { PROCESS_SPECS, processOptions } from '../process-options.js';
import { consoleSize, relay, requireTerminalInput } from '../attach-relay.js';
import { clientFor, ensureServices } from '../services.js';

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
    for await (const chunk of client.stream<RunChunk>(LIFECYCLE.exec, request)) {
      if ('stream' in chunk) {
        const out = chunk.stream === 'stdout' ? process.stdout : process.stderr;
        const data = Buffer.from(chunk.data, 'base64');
        if (!out.write(data)) await new Promise((r) => out.once('drain', r));
      } else if ('started' in chunk) {
        // -d: docker prints nothing and leaves the process running
        if (request.detach) return 0;
        if (chunk.attach) return await attached(chunk.attach, request);
      } else if ('exit' in chunk) {
        if (chunk.exit.error) process.stderr.write(`nestbox: ${chunk.exit.error}\n`);
        return chunk.exit.exitCode;
      }
    }
    throw new NestboxError('INTERNAL', 'the lifecycle service ended the exec without an exit status');
  } finally {
    client.close();
  }
}

/** -i / -t: stdio straight through the exec's shim, whose exit frame carries the exit code. */
async function attached(socket: string, request: Record<string, unknown>): Promise<number> {
  const exit = await relay({ socket, stdin: request.interactive === true, tty: request.tty === true });
  if (!exit) throw new NestboxError('INTERNAL', "the exec's shim ended without an exit status");
  if (exit.error) process.stderr.write(`nestbox: ${exit.error}\n`);
  return exit.exitCode;
}
