/**
 * Hides most of the kernel's cost of the one cgroup move each run and exec makes. Every write to
 * a cgroup.procs takes the global cgroup_threadgroup_rwsem for writing; when nobody took it in the
 * last few milliseconds, that first waits for an RCU grace period (rcu_sync): 7-20 ms here, more
 * than the rest of a run. Writers that come during or shortly after one such wait pass at once.
 * So when a run, start or exec begins, this writes the service's own pid into the cgroup it is
 * already in (a move that moves nothing) on a libuv thread, and again every few ms for a short
 * window: the grace period passes while the rootfs, network and bundle are made, and the lock
 * stays warm until the runtime's real move, however late in the window it comes. Outside those
 * windows the kernel's fast path for everyone else's fork and exit is left alone.
 * A warm write holds cgroup_mutex through its grace period, so a cgroup mkdir or rmdir waits
 * for it: warm after making the cgroup, not before.
 * (On v2 a runtime could also clone straight into the cgroup; v1 has no such way.)
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCgroupHost } from './cgroup-probe.js';

/** how long a warm lasts: a run's move comes 10-40 ms after its start, more on a loaded machine */
const WINDOW_MS = 100;
/** less than a grace period, so the lock never cools in between */
const INTERVAL_MS = 3;

export class MigrationWarmer {
  private looping = false;
  private until = 0;
  private disabled: boolean;
  private readonly mountinfo: string;

  constructor(enabled: boolean) {
    this.disabled = !enabled;
    this.mountinfo = enabled ? readFileSync('/proc/self/mountinfo', 'utf8') : '';
  }

  /** Fire and forget: never throws, never waits; off for good once the kernel refuses it. */
  warm(): void {
    if (this.disabled) return;
    this.until = Date.now() + WINDOW_MS;
    if (this.looping) return;
    const procs = this.ownProcsFile();
    if (procs) this.write(procs);
  }

  private write(procs: string): void {
    this.looping = true;
    writeFile(procs, String(process.pid), { flag: 'r+' }).then(
      () => {
        if (Date.now() >= this.until) this.looping = false;
        else setTimeout(() => this.write(procs), INTERVAL_MS).unref();
      },
      () => {
        this.looping = false;
        this.disabled = true; // not writable for this user: the runtime's move pays the wait, as before
      },
    );
  }

  /** cgroup.procs of the cgroup this process is in now (read each time: a v2 start moves it once). */
  private ownProcsFile(): string | undefined {
    const host = parseCgroupHost(this.mountinfo, readFileSync('/proc/self/cgroup', 'utf8'));
    const dir = host.layout === 'unified' ? host.v2?.ownDir : host.v1[0]?.ownDir;
    return dir ? join(dir, 'cgroup.procs') : undefined;
  }
}
