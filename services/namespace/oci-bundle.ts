/**
 * Turns a run request into an OCI runtime-spec bundle (config.json) for native/nestbox-runtime,
 * close to the OCI default spec so crun or runc can run the same bundle for comparison.
 * The overlay root (and which overlay mounts it) and the cgroups to join travel as io.nestbox.*
 * annotations (native/README.md), as does the directory where the runtime caches the compiled
 * seccomp filter (the same profile for every container: compiled once per user and libseccomp).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import { runtimeDir } from '../../lib/paths.js';
import type { IdMapInfo, OciMount } from '../../lib/contracts/types.js';
import type { RunContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { OverlayDriver } from './overlay-driver.js';
import { defaultSeccompProfile } from './seccomp-profile.js';

export const DEFAULT_MOUNTS: OciMount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

export const DEVICES = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7],
  ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
] as const;

/**
 * The device cgroup allow-list (runtime-spec linux.resources.devices): deny all, then the nodes
 * above, /dev/ptmx and the pty slaves. nestbox-runtime ignores it (its nodes are bind mounts of
 * the host's and the cgroup service owns cgroups); runc enforces it and, without it, denies even
 * /dev/null. Only in root's bundles: runc fails a rootless v1 bundle with any linux.resources.
 */
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  ...DEVICES.map(([, major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** docker's default capability set: container root is powerful only inside its namespaces */
export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function buildSpec(
  req: RunContainerDto, ids: IdMapInfo, overlayDriver: OverlayDriver, seccompCache = join(runtimeDir(), 'seccomp'),
): Record<string, unknown> {
  const p = req.process;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: req.terminal === true,
      ...(req.terminal && req.consoleSize ? { consoleSize: req.consoleSize } : {}),
      user: { uid: p.uid, gid: p.gid, ...(p.username ? { username: p.username } : {}) },
      args: p.args,
      // docker sets TERM for a terminal unless the image or the caller did
      env: withTerm(p.env, req.terminal === true),
      cwd: p.cwd,
      noNewPrivileges: true,
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS },
    },
    root: { path: req.rootfs.mergedDir, readonly: !!req.readonlyRootfs },
    hostname: req.hostname,
    mounts: [...DEFAULT_MOUNTS, ...req.mounts],
    annotations: {
      'io.nestbox.overlay.lowerdir': req.rootfs.lowerDirs.join(':'),
      'io.nestbox.overlay.upperdir': req.rootfs.upperDir,
      'io.nestbox.overlay.workdir': req.rootfs.workDir,
      'io.nestbox.overlay.driver': overlayDriver,
      ...(req.volatile && overlayDriver === 'kernel' ? { 'io.nestbox.overlay.volatile': 'true' } : {}),
      ...(req.cgroupPaths.length ? { 'io.nestbox.cgroup.paths': req.cgroupPaths.join(':') } : {}),
      ...(req.init ? { 'io.nestbox.init': 'true' } : {}),
      'io.nestbox.seccomp.cache': seccompCache,
    },
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'].map((type) => ({ type })),
      uidMappings: ids.uidMappings,
      gidMappings: ids.gidMappings,
      devices: DEVICES.map(([path, major, minor]) => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 })),
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
      seccomp: defaultSeccompProfile(),
      ...(process.getuid?.() === 0 ? { resources: { devices: DEVICE_RULES } } : {}),
    },
  };
}

/** Writes containers/<id>/bundle/config.json; returns the bundle directory. */
export function writeBundle(containerDir: string, spec: Record<string, unknown>): string {
  const bundle = join(containerDir, 'bundle');
  mkdirSync(bundle, { recursive: true, mode: 0o700 });
  writeJsonAtomic(join(bundle, 'config.json'), spec, { mode: 0o600, sync: false }); // written again at every start
  return bundle;
}

/** ENV plus TERM=xterm when the process has a terminal and ENV names no TERM (docker's rule). */
export function withTerm(env: string[], terminal: boolean): string[] {
  return terminal && !env.some((e) => e.startsWith('TERM=')) ? [...env, 'TERM=xterm'] : env;
}
