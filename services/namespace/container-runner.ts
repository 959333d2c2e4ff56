/**
 * Runs containers through the native runtime: writes the OCI bundle with this user's id maps,
 * starts nestbox-runtime, and keeps the running ones so they can be signalled.
 */
import { DataLayout } from '../../lib/data-layout.js';
import { NestboxError } from '../../lib/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecContainerDto, RunContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { ExitStatus, IdMapInfo } from '../../lib/contracts/types.js';
import { hostIdMaps } from './id-maps.js';
import { buildSpec, writeBundle } from './oci-bundle.js';
import type { OverlayChoice } from './overlay-driver.js';
import { ExecProcess, execProcessSpec, type OciProcess } from './exec-process.js';
import { RuntimeProcess, type RuntimeOutput } from './runtime-process.js';

export class ContainerRunner {
  private readonly running = new Map<string, RuntimeProcess>();
  /** the process of each running container's config.json: what an exec starts from */
  private readonly processes = new Map<string, OciProcess>();
  private idMaps?: IdMapInfo;

  /** `overlay`: the driver chosen at start-up (overlay-driver.ts), written into every bundle */
  constructor(private readonly layout: DataLayout, private readonly overlay: OverlayChoice) {}

  /** Read once: /etc/subuid and /etc/subgid change only with an administrator's hand. */
  ids(): IdMapInfo {
    this.idMaps ??= hostIdMaps();
    return this.idMaps;
  }

  start(req: RunContainerDto, out: RuntimeOutput): Promise<ExitStatus> {
    if (this.running.has(req.containerId)) {
      throw new NestboxError('ALREADY_EXISTS', `container ${req.containerId.slice(0, 12)} is already running`);
    }
    if (this.overlay.error) throw new NestboxError('FAILED_PRECONDITION', this.overlay.error);
    const dir = this.layout.container(req.containerId);
    const spec = buildSpec(req, this.ids(), this.overlay.driver);
    const bundle = writeBundle(dir, spec);
    const proc = new RuntimeProcess(req.containerId, bundle, dir, out);
    this.running.set(req.containerId, proc);
    this.processes.set(req.containerId, spec.process as OciProcess);
    return proc.done.finally(() => {
      this.running.delete(req.containerId);
      this.processes.delete(req.containerId);
    });
  }

  /** Runs one more process in a running container; resolves with its exit status. */
  exec(req: ExecContainerDto, out: RuntimeOutput): Promise<ExitStatus> {
    const container = this.processes.get(req.containerId);
    if (!container) throw new NestboxError('NOT_FOUND', `container ${req.containerId.slice(0, 12)} is not running`);
    const dir = this.layout.container(req.containerId);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // the runtime writes the pid file once the container is set up, just before its command
      throw new NestboxError('FAILED_PRECONDITION', `container ${req.containerId.slice(0, 12)} is still starting`);
    }
    return new ExecProcess(pid, execProcessSpec(container, req), dir, out).done;
  }

  signal(containerId: string, signal: number): void {
    const proc = this.running.get(containerId);
    if (!proc) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} is not running`);
    proc.kill(signal);
  }
}
