/**
 * Message patterns of the verbs that act on one container by name or id without composing
 * services into a run: kill, rename, wait, logs, top, pause. Validate, wait for the reconcile, delegate.
 */
import { Controller, Inject, UseInterceptors } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { from, type Observable } from 'rxjs';
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { ContainerRefRequestDto, KillRequestDto, LogsRequestDto, RenameRequestDto, TopRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { LogChunk, TopReply } from '../../lib/contracts/types.js';
import { ContainerStore } from './container-store.js';
import { KillFlow } from './kill-flow.js';
import { LogFlow } from './log-flow.js';
import { AfterReconcile } from './after-reconcile.interceptor.js';
import { PauseFlow } from './pause-flow.js';
import { TopFlow } from './top-flow.js';
import { WaitFlow } from './wait-flow.js';

@Controller()
@UseInterceptors(AfterReconcile)
export class VerbsController {
  constructor(
    @Inject(ContainerStore) private readonly store: ContainerStore,
    @Inject(KillFlow) private readonly killFlow: KillFlow,
    @Inject(WaitFlow) private readonly waitFlow: WaitFlow,
    @Inject(LogFlow) private readonly logFlow: LogFlow,
    @Inject(TopFlow) private readonly topFlow: TopFlow,
    @Inject(PauseFlow) private readonly pauseFlow: PauseFlow,
  ) {}

  @MessagePattern(LIFECYCLE.kill)
  kill(@Payload() req: KillRequestDto): Promise<{ id: string; name: string }> {
    return this.killFlow.kill(req.container, req.signal);
  }

  @MessagePattern(LIFECYCLE.rename)
  rename(@Payload() req: RenameRequestDto): { id: string; name: string } {
    const renamed = this.store.rename(this.store.find(req.container).id, req.name);
    return { id: renamed.id, name: renamed.name };
  }

  @MessagePattern(LIFECYCLE.pause)
  pause(@Payload() req: ContainerRefRequestDto): Promise<{ id: string; name: string }> {
    return this.pauseFlow.pause(req.container);
  }

  @MessagePattern(LIFECYCLE.unpause)
  unpause(@Payload() req: ContainerRefRequestDto): Promise<{ id: string; name: string }> {
    return this.pauseFlow.unpause(req.container);
  }

  @MessagePattern(LIFECYCLE.top)
  top(@Payload() req: TopRequestDto): Promise<TopReply> {
    return this.topFlow.top(req.container, req.psArgs);
  }

  /** `waiting` at once, then `exitCode` once the container is not running */
  @MessagePattern(LIFECYCLE.containerWait)
  wait(@Payload() req: ContainerRefRequestDto): Observable<{ waiting: true } | { exitCode: number }> {
    return from(this.waitFlow.wait(req.container));
  }

  @MessagePattern(LIFECYCLE.logs)
  logs(@Payload() req: LogsRequestDto): Observable<LogChunk> {
    const window = {
      ...(req.since !== undefined ? { since: BigInt(req.since) } : {}),
      ...(req.until !== undefined ? { until: BigInt(req.until) } : {}),
    };
    return from(this.logFlow.logs(req.container, req.follow === true, req.tail, window));
  }

}
