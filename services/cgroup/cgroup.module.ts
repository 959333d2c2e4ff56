import { Module } from '@nestjs/common';
import { healthController } from '../../lib/service-host.js';
import { CgroupController } from './cgroup.controller.js';
import { CGROUP_MANAGER } from './cgroup.constants.js';
import { selectCgroupManager } from './select-manager.js';

@Module({
  controllers: [CgroupController, healthController('cgroup')],
  providers: [{ provide: CGROUP_MANAGER, useFactory: () => selectCgroupManager() }],
})
export class CgroupModule {}
