import test from 'ava';
import { chooseOverlayDriver, describeChoice, interpretProbe, type ProbeResult } from '../../services/namespace/overlay-driver.js';
import { buildSpec } from '../../services/namespace/oci-bundle.js';
import type { RunContainerDto } from '../../lib/contracts/namespace.dto.js';

const kernel: ProbeResult = { status: 0, stdout: 'kernel\n', stderr: '' };
const fuse: ProbeResult = {
  status: 0,
  stdout: 'fuse\n',
  stderr: 'nestbox-runtime: kernel overlay unusable in a user namespace: mount overlay (userxattr) on /d/merged: Invalid argument\n',
};

test('the probe decides: kernel, or fuse with the kernel\'s reason', (t) => {
  t.is(interpretProbe(kernel).driver, 'kernel');
  const f = interpretProbe(fuse);
  t.is(f.driver, 'fuse');
  t.regex(f.why, /^probed: kernel overlay unusable .*Invalid argument$/);
  t.is(f.error, undefined);
});

test('a probe that fails itself keeps the kernel driver and says why', (t) => {
  const c = interpretProbe({ status: 125, stdout: '', stderr: 'nestbox-runtime: check overlay: unshare user and mount namespaces: Operation not permitted\n' });
  t.is(c.driver, 'kernel');
  t.regex(c.why, /probe failed \(check overlay: unshare .*\); using kernel/);
  t.is(interpretProbe({ status: null, stdout: '', stderr: '', error: new Error('spawnSync x ENOENT') }).why, 'the overlay probe failed (spawnSync x ENOENT); using kernel');
});

test('NESTBOX_OVERLAY_DRIVER overrides the probe, which then does not run', (t) => {
  let probed = 0;
  const probe = () => {
    probed++;
    return fuse;
  };
  t.deepEqual(chooseOverlayDriver({ NESTBOX_OVERLAY_DRIVER: 'kernel' }, '/tmp', '/rt', probe), { driver: 'kernel', why: 'NESTBOX_OVERLAY_DRIVER=kernel' });
  t.is(chooseOverlayDriver({ NESTBOX_OVERLAY_DRIVER: 'fuse' }, '/tmp', '/rt', probe).driver, 'fuse');
  t.is(probed, 0);
  t.is(chooseOverlayDriver({}, '/tmp', '/rt', probe).driver, 'fuse');
  t.is(chooseOverlayDriver({ NESTBOX_OVERLAY_DRIVER: '' }, '/tmp', '/rt', probe).driver, 'fuse');
  t.is(probed, 2);
});

test('an invalid override becomes an error for every run, logged once', (t) => {
  const c = chooseOverlayDriver({ NESTBOX_OVERLAY_DRIVER: 'fues' }, '/tmp', '/rt', () => kernel);
  t.is(c.error, 'NESTBOX_OVERLAY_DRIVER="fues" is not an overlay driver: use kernel or fuse');
  t.is(describeChoice(c), `overlay driver: none (${c.error})`);
  t.is(describeChoice(interpretProbe(kernel)), 'overlay driver: kernel (probed: the kernel overlay works in a user namespace)');
});

test('the bundle carries the driver annotation, and volatile for a run --rm on the kernel overlay only', (t) => {
  const req = {
    containerId: 'c1',
    process: { args: ['true'], env: [], cwd: '/', uid: 0, gid: 0 },
    rootfs: { lowerDirs: ['/l'], upperDir: '/u', workDir: '/w', mergedDir: '/m' },
    hostname: 'h',
    mounts: [],
    cgroupPaths: [],
  } as unknown as RunContainerDto;
  const ids = { uidMappings: [], gidMappings: [], rootUid: 0, rootGid: 0 };
  for (const driver of ['kernel', 'fuse'] as const) {
    const spec = buildSpec(req, ids, driver) as { annotations: Record<string, string | undefined> };
    t.is(spec.annotations['io.nestbox.overlay.driver'], driver);
    t.is(spec.annotations['io.nestbox.overlay.volatile'], undefined);
    const rm = buildSpec({ ...req, volatile: true } as RunContainerDto, ids, driver) as { annotations: Record<string, string | undefined> };
    t.is(rm.annotations['io.nestbox.overlay.volatile'], driver === 'kernel' ? 'true' : undefined);
  }
});
