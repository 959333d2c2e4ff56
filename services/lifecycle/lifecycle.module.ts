import { Module } from '@nestjs/common';
import { VerbsController } from './verbs.controller.js';
import { KillFlow } from './kill-flow.js';
import { WaitFlow } from './wait-flow.js';
import { LogFlow } from './log-flow.js';
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
import { TopFlow } from './top-flow.js';
import { PauseFlow } from './pause-flow.js';
import type { ServiceCaller } from './service-caller.js';
import { ContainerLocks } from './container-locks.js';
import { CreateFlow } from './create-flow.js';
import { StartFlow } from './start-flow.js';
import { RestartFlow } from './restart-flow.js';
import { HostIds } from './host-ids.js';

@Module({
  imports: [clientsFor('namespace', 'storage', 'network', 'cgroup')],
  controllers: [LifecycleController, VerbsController, healthController('lifecycle')],
  providers: [
    { provide: DataLayout, useFactory: () => new DataLayout(dataRoot()).init() },
    { provide: ContainerStore, inject: [DataLayout], useFactory: (layout: DataLayout) => new ContainerStore(layout) },
    // one lock per container for the whole service: every verb that changes a container takes it
    { provide: ContainerLocks, useFactory: () => new ContainerLocks() },
    {
      provide: SERVICE_CALLER,
      inject: [clientToken('namespace'), clientToken('storage'), clientToken('network'), clientToken('cgroup')],
      useFactory: (namespace: ClientProxy, storage: ClientProxy, network: ClientProxy, cgroup: ClientProxy) =>
        new NestServiceCaller({ namespace, storage, network, cgroup }),
    },
    { provide: HostIds, inject: [SERVICE_CALLER], useFactory: (s: ServiceCaller) => new HostIds(s) },
    { provide: ExitMonitor, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new ExitMonitor(s, c) },
    {
      provide: Reconciler,
      inject: [SERVICE_CALLER, ContainerStore, ExitMonitor],
      useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor) => new Reconciler(s, c, m),
    },
    { provide: StatsFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new StatsFlow(s, c) },
    { provide: TopFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new TopFlow(s, c) },
    { provide: PauseFlow, inject: [SERVICE_CALLER, ContainerStore, ContainerLocks], useFactory: (s: ServiceCaller, c: ContainerStore, l: ContainerLocks) => new PauseFlow(s, c, l) },
    { provide: ImageFlow, inject: [SERVICE_CALLER, ContainerStore], useFactory: (s: ServiceCaller, c: ContainerStore) => new ImageFlow(s, c) },
    ...[RemoveFlow, StopFlow].map((Flow) => ({
      provide: Flow,
      inject: [SERVICE_CALLER, ContainerStore, ExitMonitor, ContainerLocks],
      useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor, l: ContainerLocks) => new Flow(s, c, m, l),
    })),
    {
      provide: CreateFlow,
      inject: [SERVICE_CALLER, ContainerStore, ContainerLocks, HostIds],
      useFactory: (s: ServiceCaller, c: ContainerStore, l: ContainerLocks, h: HostIds) => new CreateFlow(s, c, l, h),
    },
    {
      provide: StartFlow,
      inject: [SERVICE_CALLER, ContainerStore, ExitMonitor, ContainerLocks, DataLayout, HostIds],
      useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor, l: ContainerLocks, d: DataLayout, h: HostIds) => new StartFlow(s, c, m, l, d, h),
    },
    { provide: RunFlow, inject: [CreateFlow, StartFlow], useFactory: (c: CreateFlow, s: StartFlow) => new RunFlow(c, s) },
    {
      provide: RestartFlow,
      inject: [ContainerStore, ContainerLocks, StopFlow, StartFlow],
      useFactory: (c: ContainerStore, l: ContainerLocks, stop: StopFlow, start: StartFlow) => new RestartFlow(c, l, stop, start),
    },
    ...[ExecFlow, ExportFlow, CommitFlow].map((Flow) => ({
      provide: Flow,
      inject: [SERVICE_CALLER, ContainerStore, ExitMonitor],
      useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor) => new Flow(s, c, m),
    })),
    { provide: KillFlow, inject: [SERVICE_CALLER, ContainerStore, ExitMonitor], useFactory: (s: ServiceCaller, c: ContainerStore, m: ExitMonitor) => new KillFlow(s, c, m) },
    { provide: WaitFlow, inject: [ContainerStore, ExitMonitor], useFactory: (c: ContainerStore, m: ExitMonitor) => new WaitFlow(c, m) },
    { provide: LogFlow, inject: [ContainerStore, ExitMonitor], useFactory: (c: ContainerStore, m: ExitMonitor) => new LogFlow(c, m) },
  ],
})
export class LifecycleModule {}
