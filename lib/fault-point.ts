/**
 * Named crash points for the crash-safety tests: `NESTBOX_CRASH_AT=run:after-cgroup` makes the
 * process that reaches that point SIGKILL itself there, once per runtime dir (a marker file made
 * with O_EXCL), so the service the supervisor restarts goes on normally. With the variable unset
 * (every real use) a point is one string comparison.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeDir } from './paths.js';

const wanted = new Set((process.env.NESTBOX_CRASH_AT ?? '').split(',').filter(Boolean));

export function crashPoint(name: string): void {
  if (!wanted.has(name)) return;
  try {
    closeSync(openSync(join(runtimeDir(), `crashed-at-${name.replace(/[^a-z0-9-]/gi, '_')}`), 'wx', 0o600));
  } catch {
    return; // fired already: the restarted service must get past it
  }
  process.kill(process.pid, 'SIGKILL');
}
