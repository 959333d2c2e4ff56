/**
 * Bundles for the native runtime tests: a busybox root filesystem as the overlay's lower layer, an
 * upper and a work dir, and a config.json like the one the namespace service writes; helpers to
 * run them as root or as the unprivileged test user (the staged copy, through setpriv).
 *
 * Ownership matters and is part of what is tested: as root, container root is the first id of
 * root's /etc/subuid range, so the layer, upper, work and merged dirs belong to it and every
 * directory above them is traversable (0711); rootless, everything belongs to the test user.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { scaled } from './time.js';
import { isRoot, projectRoot, rootlessUnavailable, stageProject, TEST_USER, unstage, userIds } from './host.js';
import { DEFAULT_CAPS, DEFAULT_MOUNTS, DEVICES, MASKED_PATHS, READONLY_PATHS } from '../../services/namespace/oci-bundle.js';
import { defaultSeccompProfile } from '../../services/namespace/seccomp-profile.js';


export type Mode = 'root' | 'rootless';
// config.json is plain JSON the tests edit freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Config = Record<string, any>;

export interface Bundle {
  mode: Mode;
  base: string; // the temporary directory holding everything
  dir: string; // the bundle (config.json)
  lower: string;
  upper: string;
  owner: number; // host uid (and gid) of container root
  config: Config;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  status?: Record<string, unknown>;
}

/** first id of USER's range in /etc/subuid (setup gives root and the test user one each) */
function subidStart(user: string): number {
  try {
    const line = readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
    return line ? Number(line.split(':')[1]) : -1;
  } catch {
    return -1;
  }
}
export const ROOT_SUBID = subidStart('root');
export const ROOTLESS_SUBID = subidStart(TEST_USER);
export const APPLETS = ['sh', 'echo', 'id', 'cat', 'hostname', 'ps', 'ls', 'true', 'sleep', 'touch', 'mount', 'pwd'];

export const rootlessReason = rootlessUnavailable();
let runtimeRoot = '';
let runtimeRootless = '';
/** the io.nestbox.overlay.driver of every bundle (the fuse driver tests set their own) */
export const defaultDriver: Record<Mode, string> = { root: 'kernel', rootless: 'kernel' };

/** The suite's hooks: build the runtime, stage it for the test user, probe the overlay driver. */
export function registerRuntimeHooks(): void {
  test.before(() => {
    if (!isRoot) return;
    // Up to date in a few ms when nothing changed; the suite must never test a stale binary.
    const make = spawnSync('make', ['-s', '-C', join(projectRoot(), 'native'), 'all', 'test-tools'], { encoding: 'utf8' });
    if (make.status !== 0) throw new Error(`make -C native failed:\n${make.stdout}${make.stderr}`);
    runtimeRoot = join(projectRoot(), 'native', 'build', 'nestbox-runtime');
    if (!rootlessReason) runtimeRootless = join(stageProject(), 'native', 'build', 'nestbox-runtime');
    for (const mode of ['root', 'rootless'] as const) {
      if (mode === 'rootless' && rootlessReason) continue;
      const forced = process.env.NESTBOX_OVERLAY_DRIVER;
      defaultDriver[mode] = forced || (checkOverlay(mode).stdout.trim() === 'fuse' ? 'fuse' : 'kernel');
    }
  });

  test.after.always(() => {
    unstage();
  });
}

/** the runtime binary MODE's tests run (rootless: the staged copy the test user can read) */
export function runtimeBin(mode: Mode): string {
  return mode === 'root' ? runtimeRoot : runtimeRootless;
}

/** a test tool from native/build/test (`make test-tools`), for MODE's user */
export function testTool(mode: Mode, name: string): string {
  return join(runtimeBin(mode), '..', 'test', name);
}

/** COMMAND as MODE's user: as is for root, through setpriv and a clean environment rootless */
export function asUser(mode: Mode, command: string[]): string[] {
  if (mode === 'root') return command;
  const { uid, gid } = testUser();
  const env = ['PATH=/usr/local/bin:/usr/bin:/bin', `HOME=/home/${TEST_USER}`, `USER=${TEST_USER}`];
  return ['setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', 'env', '-i', ...env, ...command];
}

export function testUser(): { uid: number; gid: number } {
  const ids = userIds(TEST_USER);
  if (!ids) throw new Error(`no user ${TEST_USER}`);
  return ids;
}

export function chownTree(path: string, uid: number): void {
  lchownSync(path, uid, uid);
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid);
}

export function idMaps(mode: Mode): Array<{ containerID: number; hostID: number; size: number }> {
  if (mode === 'root') return [{ containerID: 0, hostID: ROOT_SUBID, size: 65536 }];
  return [
    { containerID: 0, hostID: testUser().uid, size: 1 },
    { containerID: 1, hostID: ROOTLESS_SUBID, size: 65535 },
  ];
}

export function makeBundle(mode: Mode, args: string[], edit?: (c: Config, b: Bundle) => void): Bundle {
  const base = mkdtempSync('/tmp/nbx-rt-');
  const dir = join(base, 'bundle');
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  const work = join(base, 'work');
  const merged = join(base, 'merged');
  for (const d of [dir, upper, work, merged]) mkdirSync(d);
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) mkdirSync(join(lower, d), { recursive: true });
  copyFileSync('/bin/busybox', join(lower, 'bin', 'busybox'));
  chmodSync(join(lower, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(lower, 'bin', a));
  writeFileSync(join(lower, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');

  const maps = idMaps(mode);
  const config: Config = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      args,
      env: ['PATH=/bin:/usr/bin', 'HOME=/root'],
      cwd: '/',
      user: { uid: 0, gid: 0 },
      noNewPrivileges: true,
    },
    root: { path: merged },
    hostname: 'nbx-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'].map((type) => ({ type })),
      uidMappings: maps,
      gidMappings: maps,
      devices: [
        ['/dev/null', 1, 3],
        ['/dev/zero', 1, 5],
        ['/dev/full', 1, 7],
        ['/dev/random', 1, 8],
        ['/dev/urandom', 1, 9],
        ['/dev/tty', 5, 0],
      ].map(([path, major, minor]) => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 })),
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/acpi', '/sys/firmware'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger', '/proc/bus'],
    },
    annotations: {
      'io.nestbox.overlay.lowerdir': lower,
      'io.nestbox.overlay.upperdir': upper,
      'io.nestbox.overlay.workdir': work,
      'io.nestbox.overlay.driver': defaultDriver[mode],
    },
  };
  const owner = mode === 'root' ? ROOT_SUBID : testUser().uid;
  const b: Bundle = { mode, base, dir, lower, upper, owner, config };
  edit?.(config, b);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  if (mode === 'root') {
    // The runtime (host root) writes status files in base; container root (1000000) only
    // needs to traverse it.
    chmodSync(base, 0o711);
    for (const e of readdirSync(base)) chownTree(join(base, e), owner);
  } else {
    chmodSync(base, 0o755);
    chownTree(base, owner);
  }
  return b;
}

/**
 * Gives a bundle what the namespace service puts in every container's config.json (oci-bundle.ts):
 * its mounts, devices, capabilities, no_new_privs, masked and read-only paths and seccomp filter.
 * Pass it as makeBundle's edit (or call it first in one).
 */
export function serviceProfile(c: Config): void {
  c.mounts = DEFAULT_MOUNTS.map((m) => ({ ...m, options: [...(m.options ?? [])] }));
  c.process.noNewPrivileges = true;
  c.process.capabilities = { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] };
  c.linux.devices = DEVICES.map(([path, major, minor]) => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 }));
  c.linux.maskedPaths = [...MASKED_PATHS];
  c.linux.readonlyPaths = [...READONLY_PATHS];
  c.linux.seccomp = defaultSeccompProfile();
}

export function removeBundle(b: Bundle): void {
  rmSync(b.base, { recursive: true, force: true });
}

export interface StartOpts {
  /** the runtime's PATH */
  path?: string;
  /** a command (run as root) that execs the rest: the runtime, or setpriv for rootless */
  prefix?: string[];
}

export function start(b: Bundle, extra: string[] = [], statusFile = true, opts: StartOpts = {}): ChildProcess {
  const args = ['run', '--bundle', b.dir, '--pid-file', join(b.base, 'pid')];
  if (statusFile) args.push('--status-file', join(b.base, 'status.json'));
  args.push(...extra, 'nbx-test-1');
  const prefix = opts.prefix ?? [];
  const spawnIt = (cmd: string[], env?: NodeJS.ProcessEnv) =>
    spawn(cmd[0], cmd.slice(1), { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  if (b.mode === 'root') return spawnIt([...prefix, runtimeRoot, ...args], opts.path ? { ...process.env, PATH: opts.path } : undefined);
  const { uid, gid } = testUser();
  // setpriv and env exec: the child's pid is the runtime's.
  const env = [`PATH=${opts.path ?? '/usr/local/bin:/usr/bin:/bin'}`, `HOME=/home/${TEST_USER}`, `USER=${TEST_USER}`];
  return spawnIt([
    ...prefix,
    'setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', 'env', '-i', ...env, runtimeRootless, ...args,
  ]);
}

export function finish(b: Bundle, child: ChildProcess, statusFile = true): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const r: RunResult = { code, signal, stdout, stderr };
      const sf = join(b.base, 'status.json');
      if (statusFile && existsSync(sf)) r.status = JSON.parse(readFileSync(sf, 'utf8'));
      resolve(r);
    });
  });
}

export async function run(b: Bundle, extra: string[] = [], statusFile = true): Promise<RunResult> {
  return finish(b, start(b, extra, statusFile), statusFile);
}

export async function waitFor<T>(what: string, probe: () => T | undefined, ms = 10000): Promise<T> {
  const until = Date.now() + scaled(ms);
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} (${scaled(ms)} ms)`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function readPid(b: Bundle): number | undefined {
  try {
    const text = readFileSync(join(b.base, 'pid'), 'utf8');
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Nothing the container mounted may be visible on the host. */
export function assertNoHostMounts(t: ExecutionContext, b: Bundle): void {
  const leaked = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(b.base));
  t.deepEqual(leaked, [], 'mounts leaked into the host mount namespace');
}

export type Body = (t: ExecutionContext, mode: Mode) => Promise<void>;

/** Registers TITLE once as root and once rootless, skipping with the reason when impossible. */
export function both(title: string, body: Body): void {
  for (const mode of ['root', 'rootless'] as const) {
    const reason = !isRoot ? 'the runtime tests are driven by root' : mode === 'rootless' ? rootlessReason : undefined;
    const name = `${mode}: ${title}`;
    if (reason) test.skip(`${name} (skipped: ${reason})`, () => {});
    else test(name, (t) => body(t, mode));
  }
}

/** Builds a bundle, runs it, removes it (also on failure), checks no mount leaked. */
export async function runIn(
  t: ExecutionContext,
  mode: Mode,
  args: string[],
  edit?: (c: Config, b: Bundle) => void,
  check?: (r: RunResult, b: Bundle) => void,
): Promise<RunResult> {
  const b = makeBundle(mode, args, edit);
  t.teardown(() => removeBundle(b));
  const r = await run(b);
  assertNoHostMounts(t, b);
  check?.(r, b);
  return r;
}


export interface CheckResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** what the probe left in its --dir */
  left: string[];
}

/** `nestbox-runtime check overlay --dir D` as MODE's user, D a fresh directory of that user under /tmp. */
export function checkOverlay(mode: Mode, dir?: string): CheckResult {
  const base = mkdtempSync('/tmp/nbx-rt-probe-');
  try {
    if (mode === 'rootless') chownTree(base, testUser().uid);
    const args = ['check', 'overlay', '--dir', dir ?? base];
    const r = mode === 'root'
      ? spawnSync(runtimeRoot, args, { encoding: 'utf8' })
      : spawnSync('setpriv', ['--reuid', String(testUser().uid), '--regid', String(testUser().gid), '--init-groups', '--', runtimeRootless, ...args], { encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, left: readdirSync(base) };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** the namespace a process is in, as the /proc/PID/ns/NS link reads (undefined when gone) */
export function nsLink(pid: number | string, ns: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}
