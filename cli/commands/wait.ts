/** `nestbox wait CONTAINER...`: blocks until each is not running, printing its exit code (docker's). */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { forEachContainer } from './each-container.js';

export async function waitCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox wait" requires at least 1 argument: CONTAINER...');
  return forEachContainer(positionals, 30_000, async (client, ref) => {
    let exitCode: number | undefined;
    // the first chunk comes at once; then the stream stays open as long as the container runs
    for await (const chunk of client.stream<{ waiting: true } | { exitCode: number }>(LIFECYCLE.containerWait, { container: ref })) {
      if ('exitCode' in chunk) exitCode = chunk.exitCode;
    }
    if (exitCode === undefined) throw new NestboxError('INTERNAL', `the lifecycle service ended the wait for ${ref} without an exit code`);
    process.stdout.write(`${exitCode}\n`);
  }, { echo: false });
}
