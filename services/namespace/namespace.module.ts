import { Module } from '@nestjs/common';
import { DataLayout } from '../../lib/data-layout.js';
import { dataRoot } from '../../lib/paths.js';
import { healthController } from '../../lib/service-host.js';
import { ContainerRunner } from './container-runner.js';
import { NamespaceController } from './namespace.controller.js';

@Module({
  controllers: [NamespaceController, healthController('namespace')],
  providers: [{ provide: ContainerRunner, useFactory: () => new ContainerRunner(new DataLayout(dataRoot()).init()) }],
})
export class NamespaceModule {}
