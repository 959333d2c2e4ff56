import { Logger, Module } from '@nestjs/common';
import { healthController } from '../../lib/service-host.js';
import { CgroupController } from './cgroup.controller.js';
import { CGROUP_MANAGER } from './cgroup.constants.js';
import { selectCgroupManager } from './select-manager.js';
import type { CgroupManager } from './cgroup-manager.js';
import { MigrationWarmer } from './migration-warmer.js';

@Module({
  controllers: [CgroupController, healthController('cgroup')],
  providers: [
    {
      provide: CGROUP_MANAGER,
      useFactory: async () => {
        const manager = selectCgroupManager();
        const removed = await manager.removeAbandoned();
        if (removed.length) Logger.warn(`removed ${removed.length} abandoned container cgroup(s): ${removed.map((id) => id.slice(0, 12)).join(' ')}`, 'cgroup');
        return manager;
      },
    },
    // only where containers get cgroups to join
    { provide: MigrationWarmer, inject: [CGROUP_MANAGER], useFactory: (m: CgroupManager) => new MigrationWarmer(m.driver !== 'none') },
  ],
})
export class CgroupModule {}
