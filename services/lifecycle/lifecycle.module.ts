import { Module } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { DataLayout } from '../../lib/data-layout.js';
import { dataRoot } from '../../lib/paths.js';
import { clientToken, clientsFor, healthController } from '../../lib/service-host.js';
import { ContainerStore } from './container-store.js';
import { SERVICE_CALLER } from './lifecycle.constants.js';
import { LifecycleController } from './lifecycle.controller.js';
import { NestServiceCaller } from './nest-service-caller.js';
import { RemoveFlow } from './remove-flow.js';
import { RunFlow } from './run-flow.js';
import type { ServiceCaller } from './service-caller.js';

@Module({
  imports: [clientsFor('namespace', 'storage', 'network', 'cgroup')],
  controllers: [LifecycleController, healthController('lifecycle')],
  providers: [
    { provide: ContainerStore, useFactory: () => new ContainerStore(new DataLayout(dataRoot()).init()) },
    {
      provide: SERVICE_CALLER,
      inject: [clientToken('namespace'), clientToken('storage'), clientToken('network'), clientToken('cgroup')],
      useFactory: (namespace: ClientProxy, storage: ClientProxy, network: ClientProxy, cgroup: ClientProxy) =>
        new NestServiceCaller({ namespace, storage, network, cgroup }),
    },
    { provide: RunFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new RunFlow(s, c) },
    { provide: RemoveFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new RemoveFlow(s, c) },
  ],
})
export class LifecycleModule {}
