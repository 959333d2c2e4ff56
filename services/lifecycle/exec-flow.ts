/**
 * `exec`: one more process in a running container, named as the user names it. The container
 * must be running here (docker's "is not running" otherwise); the process itself is the
 * namespace service's (namespace.exec), whose output and exit are streamed back as they come.
 */
import { NestboxError } from '../../lib/errors.js';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ExecRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

export class ExecFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, _monitor: ExitMonitor) {}

  exec(req: ExecRequestDto): AsyncIterable<RunChunk> {
    const record = this.store.find(req.container);
    if (record.state !== 'running') throw new NestboxError('FAILED_PRECONDITION', `container ${record.name} is not running`);
    const [uid, gid] = req.user !== undefined ? req.user.split(':').map(Number) : [];
    return this.services.stream<RunChunk>('namespace', NAMESPACE.exec, {
      containerId: record.id,
      args: req.args,
      env: req.env,
      ...(req.workdir !== undefined ? { cwd: req.workdir } : {}),
      ...(uid !== undefined ? { uid } : {}),
      ...(gid !== undefined ? { gid } : {}),
    });
  }
}
