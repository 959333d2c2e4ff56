import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { from, type Observable } from 'rxjs';
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { ListRequestDto, RemoveRequestDto, RunRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { ContainerSummary, RunChunk } from '../../lib/contracts/types.js';
import { ContainerStore } from './container-store.js';
import { RemoveFlow } from './remove-flow.js';
import { RunFlow } from './run-flow.js';

@Controller()
export class LifecycleController {
  constructor(
    @Inject(RunFlow) private readonly runFlow: RunFlow,
    @Inject(RemoveFlow) private readonly removeFlow: RemoveFlow,
    @Inject(ContainerStore) private readonly store: ContainerStore,
  ) {}

  /** Streams `started`, output chunks and one `exit`. */
  @MessagePattern(LIFECYCLE.run)
  run(@Payload() req: RunRequestDto): Observable<RunChunk> {
    return from(this.runFlow.run(req));
  }

  @MessagePattern(LIFECYCLE.list)
  list(@Payload() req: ListRequestDto): ContainerSummary[] {
    return this.store
      .list()
      .filter((c) => req.all || c.state === 'running')
      .map((c) => ({ id: c.id, name: c.name, image: c.image, command: c.command, state: c.state, createdAt: c.createdAt, exitCode: c.exitCode }));
  }

  @MessagePattern(LIFECYCLE.remove)
  remove(@Payload() req: RemoveRequestDto) {
    return this.removeFlow.remove(req.container, req.force);
  }
}
