import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CGROUP } from '../../lib/contracts/patterns.js';
import { CreateCgroupDto, DestroyCgroupDto } from '../../lib/contracts/cgroup.dto.js';
import type { CgroupPlacement, CgroupProbe, CgroupStats } from '../../lib/contracts/types.js';
import { CGROUP_MANAGER } from './cgroup.constants.js';
import type { CgroupManager } from './cgroup-manager.js';
import { MigrationWarmer } from './migration-warmer.js';

@Controller()
export class CgroupController {
  constructor(
    @Inject(CGROUP_MANAGER) private readonly cgroups: CgroupManager,
    @Inject(MigrationWarmer) private readonly warmer: MigrationWarmer,
  ) {}

  @MessagePattern(CGROUP.probe)
  probe(): CgroupProbe {
    return this.cgroups.describe();
  }

  @MessagePattern(CGROUP.create)
  create(@Payload() req: CreateCgroupDto): CgroupPlacement {
    const placement = this.cgroups.create(req.containerId, req.limits ?? {});
    // a runtime moves a process into it soon (migration-warmer.ts); after the mkdirs, as a warm
    // holds the kernel's cgroup_mutex (which mkdir takes too) until its grace period ends
    this.warmer.warm();
    return placement;
  }

  /** An exec is about to join a container's cgroups: warm the kernel's lock for it. */
  @MessagePattern(CGROUP.warm)
  warm(): { warming: true } {
    this.warmer.warm();
    return { warming: true };
  }

  @MessagePattern(CGROUP.stats)
  stats(@Payload() req: DestroyCgroupDto): CgroupStats {
    return this.cgroups.stats(req.containerId);
  }

  @MessagePattern(CGROUP.freeze)
  async freeze(@Payload() req: DestroyCgroupDto): Promise<{ frozen: true }> {
    await this.cgroups.freeze(req.containerId);
    return { frozen: true };
  }

  @MessagePattern(CGROUP.thaw)
  async thaw(@Payload() req: DestroyCgroupDto): Promise<{ frozen: false }> {
    await this.cgroups.thaw(req.containerId);
    return { frozen: false };
  }

  @MessagePattern(CGROUP.destroy)
  async destroy(@Payload() req: DestroyCgroupDto): Promise<{ destroyed: true }> {
    await this.cgroups.destroy(req.containerId);
    return { destroyed: true };
  }
}
