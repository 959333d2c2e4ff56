import { Module } from '@nestjs/common';
import { DataLayout } from '../../lib/data-layout.js';
import { join } from 'node:path';
import { dataRoot, nativeBin, runtimeDir } from '../../lib/paths.js';
import { healthController } from '../../lib/service-host.js';
import { ContainerRunner } from './container-runner.js';
import { Keeper } from './keeper.js';
import { NamespaceController } from './namespace.controller.js';
import { chooseOverlayDriver, describeChoice } from './overlay-driver.js';

/** The overlay driver is chosen once, here, and logged once (the service's log). */
function createRunner(): ContainerRunner {
  const layout = new DataLayout(dataRoot()).init();
  const overlay = chooseOverlayDriver(process.env, layout.tmp, nativeBin('nestbox-runtime'));
  process.stderr.write(`nestbox namespace: ${describeChoice(overlay)}\n`);
  return new ContainerRunner(layout, overlay, { runtime: nativeBin('nestbox-runtime'), shim: nativeBin('nestbox-shim') });
}

@Module({
  controllers: [NamespaceController, healthController('namespace')],
  providers: [
    { provide: ContainerRunner, useFactory: createRunner },
    // recorded in the runtime dir: it outlives the service (adopted on restart), not a reboot
    {
      provide: Keeper,
      inject: [ContainerRunner],
      useFactory: (runner: ContainerRunner) => new Keeper(nativeBin('nestbox-runtime'), join(runtimeDir(), 'keeper.pid'), () => runner.ids()),
    },
  ],
})
export class NamespaceModule {}
