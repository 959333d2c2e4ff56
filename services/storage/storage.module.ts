import { Module } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { KeeperInfo } from '../../lib/contracts/types.js';
import { DataLayout } from '../../lib/data-layout.js';
import { dataRoot } from '../../lib/paths.js';
import { call, clientToken, clientsFor, healthController } from '../../lib/service-host.js';
import { KeeperExtractor } from './keeper-extract.js';
import { StorageController } from './storage.controller.js';
import { Storage } from './storage.js';

@Module({
  imports: [clientsFor('namespace')],
  controllers: [StorageController, healthController('storage')],
  providers: [
    {
      provide: Storage,
      inject: [clientToken('namespace')],
      // layers are extracted in the keeper namespace, which the namespace service owns
      useFactory: (namespace: ClientProxy) =>
        new Storage(dataRoot(), new KeeperExtractor((purpose) => call<KeeperInfo>(namespace, NAMESPACE.keeper, { purpose }), new DataLayout(dataRoot()).worker)),
    },
  ],
})
export class StorageModule {}
