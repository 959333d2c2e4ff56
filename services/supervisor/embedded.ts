/**
 * All five services in one process over the same contracts: each keeps its ipc endpoint (the
 * CLI's way in) and also binds inproc://, which the others use to reach it.
 */
import type { INestMicroservice, Type } from '@nestjs/common';

export async function startEmbedded(): Promise<INestMicroservice[]> {
  process.env.NESTBOX_EMBEDDED = '1'; // read when the modules below build their clients
  const { startService } = await import('../../lib/service-host.js');
  const modules: [Parameters<typeof startService>[0], () => Promise<Type>][] = [
    ['storage', async () => (await import('../storage/storage.module.js')).StorageModule],
    ['network', async () => (await import('../network/network.module.js')).NetworkModule],
    ['cgroup', async () => (await import('../cgroup/cgroup.module.js')).CgroupModule],
    ['namespace', async () => (await import('../namespace/namespace.module.js')).NamespaceModule],
    ['lifecycle', async () => (await import('../lifecycle/lifecycle.module.js')).LifecycleModule],
  ];
  const apps: INestMicroservice[] = [];
  for (const [name, load] of modules) apps.push(await startService(name, await load()));
  return apps;
}
