/**
 * The CLI end of a run or exec stream from lifecycle: output chunks written with back-pressure,
 * warnings and nestbox's own errors printed in one line each, the exit code returned. What
 * differs between the verbs (detach, attach) is decided by `onStarted`, which may end the stream.
 */
import type { RunChunk } from '../lib/contracts/types.js';
import { NestboxError } from '../lib/errors.js';

export type StartedChunk = Extract<RunChunk, { started: true }>;

export async function followProcessStream(
  chunks: AsyncIterable<RunChunk>,
  verb: 'run' | 'exec',
  onStarted: (chunk: StartedChunk) => Promise<number | undefined> | number | undefined,
): Promise<number> {
  for await (const chunk of chunks) {
    if ('stream' in chunk) {
      await write(chunk.stream === 'stdout' ? process.stdout : process.stderr, Buffer.from(chunk.data, 'base64'));
    } else if ('started' in chunk) {
      const code = await onStarted(chunk);
      if (code !== undefined) return code;
    } else if ('warning' in chunk) {
      process.stderr.write(`WARNING: ${chunk.warning}\n`);
    } else if ('exit' in chunk) {
      if (chunk.exit.error) process.stderr.write(`nestbox: ${chunk.exit.error}\n`);
      return chunk.exit.exitCode;
    }
  }
  throw new NestboxError('INTERNAL', `the lifecycle service ended the ${verb} without an exit status`);
}

function write(stream: NodeJS.WriteStream, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(data)) resolve();
    else stream.once('drain', () => resolve());
  });
}
