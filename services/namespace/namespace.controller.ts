import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import { RunContainerDto, SignalContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { IdMapInfo, RunChunk } from '../../lib/contracts/types.js';
import { ContainerRunner } from './container-runner.js';

@Controller()
export class NamespaceController {
  constructor(@Inject(ContainerRunner) private readonly runner: ContainerRunner) {}

  @MessagePattern(NAMESPACE.idMap)
  idMap(): IdMapInfo {
    return this.runner.ids();
  }

  /** Streams `started`, the output chunks, then one `exit`. */
  @MessagePattern(NAMESPACE.run)
  run(@Payload() req: RunContainerDto): Observable<RunChunk> {
    return new Observable<RunChunk>((sub) => {
      let done: Promise<unknown>;
      try {
        done = this.runner.start(req, {
          onChunk: (stream, data) => sub.next({ stream, data: data.toString('base64') }),
        });
      } catch (err) {
        sub.error(err);
        return;
      }
      sub.next({ containerId: req.containerId, started: true });
      done.then(
        (exit) => {
          sub.next({ exit: exit as never });
          sub.complete();
        },
        (err) => sub.error(err),
      );
    });
  }

  @MessagePattern(NAMESPACE.signal)
  signal(@Payload() req: SignalContainerDto): { signalled: true } {
    this.runner.signal(req.containerId, req.signal);
    return { signalled: true };
  }
}
