/**
 * Which overlay mounts container roots (DESIGN.md "Rootless": overlay in the user namespace,
 * fuse-overlayfs where the kernel can't): `kernel` (kernel >= 5.11, `userxattr`) or `fuse`
 * (fuse-overlayfs, run by the native runtime). Chosen once when the service starts, by the
 * runtime's probe (`nestbox-runtime check overlay`) as this user on the data root's file
 * system; NESTBOX_OVERLAY_DRIVER=kernel|fuse overrides the probe.
 */
import { spawnSync } from 'node:child_process';

export const OVERLAY_DRIVERS = ['kernel', 'fuse'] as const;
export type OverlayDriver = (typeof OVERLAY_DRIVERS)[number];
export const OVERLAY_DRIVER_ENV = 'NESTBOX_OVERLAY_DRIVER';

export interface OverlayChoice {
  driver: OverlayDriver;
  /** how it was chosen, for the one log line */
  why: string;
  /** set when the override is invalid: every run is refused with it */
  error?: string;
}

export interface ProbeResult {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

export type OverlayProbe = (runtime: string, dir: string) => ProbeResult;

/** Runs `RUNTIME check overlay --dir DIR` (a few ms; it cleans up after itself). */
export const runOverlayProbe: OverlayProbe = (runtime, dir) => {
  const r = spawnSync(runtime, ['check', 'overlay', '--dir', dir], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) };
};

/** What the probe's output means. A probe that fails itself keeps the kernel driver: runs then say what is wrong. */
export function interpretProbe(r: ProbeResult): OverlayChoice {
  const answer = r.stdout.trim();
  const said = r.stderr.trim().split('\n').at(-1)?.replace(/^nestbox-runtime: /, '') ?? '';
  if (r.status === 0 && answer === 'kernel') return { driver: 'kernel', why: 'probed: the kernel overlay works in a user namespace' };
  if (r.status === 0 && answer === 'fuse') return { driver: 'fuse', why: `probed: ${said || 'the kernel overlay is unusable in a user namespace'}` };
  const failure = r.error?.message ?? (said || `exit ${r.status}`);
  return { driver: 'kernel', why: `the overlay probe failed (${failure}); using kernel` };
}

export function chooseOverlayDriver(
  env: NodeJS.ProcessEnv,
  probeDir: string,
  runtime: string,
  probe: OverlayProbe = runOverlayProbe,
): OverlayChoice {
  const forced = env[OVERLAY_DRIVER_ENV];
  if (forced !== undefined && forced !== '') {
    if ((OVERLAY_DRIVERS as readonly string[]).includes(forced)) {
      return { driver: forced as OverlayDriver, why: `${OVERLAY_DRIVER_ENV}=${forced}` };
    }
    const error = `${OVERLAY_DRIVER_ENV}=${JSON.stringify(forced)} is not an overlay driver: use kernel or fuse`;
    return { driver: 'kernel', why: error, error };
  }
  return interpretProbe(probe(runtime, probeDir));
}

/** The line the service logs once at start. */
export function describeChoice(c: OverlayChoice): string {
  return `overlay driver: ${c.error ? 'none' : c.driver} (${c.why})`;
}
