/** `nestbox create [OPTIONS] IMAGE [COMMAND] [ARG...]`: run's flags (no -d); prints the new container's full id. */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { CreateChunk, RunChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { clientFor, ensureServices } from '../services.js';
import { pullSettings, showingPulls } from './pull.js';
import { buildRunRequest } from './run.js';

export async function createCommand(argv: string[]): Promise<number> {
  const request = buildRunRequest(argv, 'create');
  if (request.pull) request.pull = pullSettings();
  await ensureServices();
  const client = clientFor('lifecycle', 120_000);
  try {
    // the image is pulled first when missing, its progress on stderr (as run)
    const chunks = showingPulls(client.stream<CreateChunk>(LIFECYCLE.create, request) as AsyncIterable<RunChunk>, request.image as string);
    for await (const chunk of chunks as AsyncIterable<CreateChunk>) {
      if ('warning' in chunk) process.stderr.write(`WARNING: ${chunk.warning}\n`);
      else if ('created' in chunk) {
        process.stdout.write(`${chunk.containerId}\n`);
        return 0;
      }
    }
  } finally {
    client.close();
  }
  throw new NestboxError('INTERNAL', 'the lifecycle service ended the create without the container');
}
