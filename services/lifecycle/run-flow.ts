/**
 * `run` = `create` + `start` (create-flow.ts, start-flow.ts), with the container's lock held from
 * its creation until it has started, so no other verb sees it in between. How the caller follows
 * it: -d not at all, -i/-t through the shim's socket, else its output streamed through here.
 */
import type { RunRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import type { CreateFlow } from './create-flow.js';
import type { LaunchMode, StartFlow } from './start-flow.js';

export { commandLine, mergeEnv, userSpec } from './create-flow.js';

export class RunFlow {
  constructor(private readonly createFlow: CreateFlow, private readonly startFlow: StartFlow) {}

  async *run(req: RunRequestDto): AsyncGenerator<RunChunk> {
    const { id, release, made } = yield* this.createFlow.prepare(req, true);
    const mode: LaunchMode = req.detach ? 'detach' : req.tty === true || req.interactive === true ? 'attach' : 'stream';
    try {
      for await (const chunk of this.startFlow.launch(id, mode, req.consoleSize, made)) {
        if ('started' in chunk) release();
        yield chunk;
      }
    } finally {
      release();
    }
  }
}
