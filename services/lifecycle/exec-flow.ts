/**
 * `exec`: one more process in a running container, named as the user names it. The container
 * must be running here (docker's "is not running" otherwise); the process itself is the
 * namespace service's (namespace.exec), whose output and exit are streamed back as they come;
 * with -i, -t or -d it runs under a shim of its own (namespace.execStart) the CLI attaches to.
 */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ExecRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { ExitStatus, RunChunk } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

export class ExecFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, _monitor: ExitMonitor) {}

  /**
   * A process will soon move into a container's existing cgroups: the cgroup service starts the
   * kernel's slow part of that now, beside the rest of the work (migration-warmer.ts; a run's or
   * start's cgroup.create does it itself, once the dirs are made: a warm holds the kernel's
   * cgroup_mutex, which mkdir needs, until its grace period ends). Asked at each exec, and by the
   * CLI as it starts (lifecycle.warm), before its verb's code is even loaded. Not awaited: only
   * time is at stake.
   */
  warm(): void {
    this.services.call('cgroup', CGROUP.warm, {}).catch(() => undefined);
  }

  exec(req: ExecRequestDto): AsyncIterable<RunChunk> {
    const record = this.store.find(req.container);
    if (record.state !== 'running') throw new NestboxError('FAILED_PRECONDITION', `container ${record.name} is not running`);
    if (record.paused) throw new NestboxError('FAILED_PRECONDITION', `Container ${record.name} is paused, unpause the container before exec`);
    this.warm(); // the process joins the container's cgroups
    const proc = {
      containerId: record.id,
      args: req.args,
      env: req.env,
      ...(req.workdir !== undefined ? { cwd: req.workdir } : {}),
      ...(req.user !== undefined ? { username: req.user } : {}),
    };
    if (req.interactive || req.tty || req.detach) return this.underShim(record.id, { ...proc, stdin: req.interactive === true, terminal: req.tty === true, detach: req.detach === true, ...(req.tty && req.consoleSize ? { consoleSize: req.consoleSize } : {}) });
    return this.services.stream<RunChunk>('namespace', NAMESPACE.exec, proc);
  }

  /** -i / -t / -d: one `started` chunk (or the `exit` of a -d that could not start), with the shim's attach socket the caller relays through (not with -d). */
  private async *underShim(containerId: string, req: Record<string, unknown>): AsyncIterable<RunChunk> {
    const reply = await this.services.call<{ started: true; attach?: string } | { exit: ExitStatus }>('namespace', NAMESPACE.execStart, req);
    if ('exit' in reply) yield { exit: reply.exit }; // -d of a command that could not start
    else yield { containerId, started: true, ...(reply.attach ? { attach: reply.attach } : {}) };
  }
}
