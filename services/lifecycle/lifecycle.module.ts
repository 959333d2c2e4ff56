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
import { Reconciler } from './reconciler.js';
import { RunFlow } from './run-flow.js';
import { StopFlow } from './stop-flow.js';
import { ExecFlow } from './exec-flow.js';
import { ExportFlow } from './export-flow.js';
import { CommitFlow } from './commit-flow.js';
import { ExitMonitor } from './exit-monitor.js';
import { ImageFlow } from './image-flow.js';
import { StatsFlow } from './stats-flow.js';
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
    { provide: ExitMonitor, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new ExitMonitor(s, c) },
    {
      provide: Reconciler,
      inject: [SERVICE_CALLER, ContainerStore, ExitMonitor],
      useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor) => new Reconciler(s, c, m),
    },
    { provide: StatsFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new StatsFlow(s, c) },
    { provide: ImageFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new ImageFlow(s, c) },
    ...[RunFlow, RemoveFlow, StopFlow, ExecFlow, ExportFlow, CommitFlow].map((Flow) => ({
      provide: Flow,
      inject: [SERVICE_CALLER, ContainerStore, ExitMonitor],
      useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor) => new Flow(s, c, m),
    })),
  ],
})
export class LifecycleModule {}
