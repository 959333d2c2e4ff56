import { Module } from '@nestjs/common';
import { dataRoot } from '../../lib/paths.js';
import { healthController } from '../../lib/service-host.js';
import { StorageController } from './storage.controller.js';
import { Storage } from './storage.js';

@Module({
  controllers: [StorageController, healthController('storage')],
  providers: [{ provide: Storage, useFactory: () => new Storage(dataRoot()) }],
})
export class StorageModule {}
