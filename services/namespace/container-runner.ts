/**
 * Runs containers through the native runtime: writes the OCI bundle with this user's id maps,
 * starts nestbox-runtime, and keeps the running ones so they can be signalled.
 */
import { DataLayout } from '../../lib/data-layout.js';
import { NestboxError } from '../../lib/errors.js';
import type { RunContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { ExitStatus, IdMapInfo } from '../../lib/contracts/types.js';
import { hostIdMaps } from './id-maps.js';
import { buildSpec, writeBundle } from './oci-bundle.js';
import type { OverlayChoice } from './overlay-driver.js';
import { RuntimeProcess, type RuntimeOutput } from './runtime-process.js';

export class ContainerRunner {
  private readonly running = new Map<string, RuntimeProcess>();
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
    const bundle = writeBundle(dir, buildSpec(req, this.ids(), this.overlay.driver));
    const proc = new RuntimeProcess(req.containerId, bundle, dir, out);
    this.running.set(req.containerId, proc);
    return proc.done.finally(() => this.running.delete(req.containerId));
  }

  signal(containerId: string, signal: number): void {
    const proc = this.running.get(containerId);
    if (!proc) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} is not running`);
    proc.kill(signal);
  }
}
