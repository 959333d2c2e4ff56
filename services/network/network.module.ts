import { Module } from '@nestjs/common';
import { DataLayout } from '../../lib/data-layout.js';
import { dataRoot } from '../../lib/paths.js';
import { healthController } from '../../lib/service-host.js';
import { ContainerNetworkFiles } from './container-files.js';
import { NetworkController } from './network.controller.js';

@Module({
  controllers: [NetworkController, healthController('network')],
  providers: [{ provide: ContainerNetworkFiles, useFactory: () => new ContainerNetworkFiles(new DataLayout(dataRoot()).init()) }],
})
export class NetworkModule {}
