import { Module } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { KeeperInfo } from '../../lib/contracts/types.js';
import { DataLayout } from '../../lib/data-layout.js';
import { dataRoot } from '../../lib/paths.js';
import { NestboxError } from '../../lib/errors.js';
import { call, clientToken, clientsFor, healthController } from '../../lib/service-host.js';
import { nativeBin } from '../../lib/paths.js';
import { chooseOverlayDriver, type OverlayDriver } from '../namespace/overlay-driver.js';
import { KeeperExtractor } from './keeper-extract.js';
import type { KeeperSource } from './keeper-run.js';
import { KeeperCommitWriter } from './keeper-commit.js';
import { RootfsExporter } from './rootfs-export.js';
import { StorageController } from './storage.controller.js';
import { KeeperRemover } from './tree-remover.js';
import { TreeMeasurer } from './disk-usage.js';
import { Storage } from './storage.js';

@Module({
  imports: [clientsFor('namespace')],
  controllers: [StorageController, healthController('storage')],
  providers: [
    {
      provide: Storage,
      inject: [clientToken('namespace')],
      // layers are extracted, and exports mounted, in the keeper namespace, which the namespace service owns
      useFactory: (namespace: ClientProxy) => {
        const keeper: KeeperSource = (purpose) => call<KeeperInfo>(namespace, NAMESPACE.keeper, { purpose });
        const layout = new DataLayout(dataRoot());
        const storage = new Storage(dataRoot(), new KeeperExtractor(keeper, layout.worker), new RootfsExporter(keeper, overlayDriverOnce(layout.tmp)), new KeeperCommitWriter(keeper, layout.worker),
          { remover: new KeeperRemover(keeper), measurer: new TreeMeasurer(keeper) });
        // what a crash left: temporaries now, before requests; layer leftovers once the keeper can be asked
        storage.gc.sweepTemporaries();
        setTimeout(() => void storage.gc.sweep().catch((err: Error) => process.stderr.write(`nestbox storage: sweeping leftovers at start: ${err.message}\n`)), 1_000).unref();
        return storage;
      },
    },
  ],
})
export class StorageModule {}

/** The same probe (and override) as the namespace service's, run on the first export only. */
function overlayDriverOnce(probeDir: string): () => OverlayDriver {
  let driver: OverlayDriver | undefined;
  return () => {
    if (driver) return driver;
    const choice = chooseOverlayDriver(process.env, probeDir, nativeBin('nestbox-runtime'));
    if (choice.error) throw new NestboxError('FAILED_PRECONDITION', choice.error);
    return (driver = choice.driver);
  };
}
