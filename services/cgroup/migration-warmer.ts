/**
 * Hides most of the kernel's cost of the one cgroup move each run and exec makes. Every write to
 * a cgroup.procs takes the global cgroup_threadgroup_rwsem for writing; when nobody took it in the
 * last few milliseconds, that first waits for an RCU grace period (rcu_sync): 7-20 ms here, more
 * than the rest of a run. Writers that come during or shortly after one such wait pass at once.
 * So when a run, start or exec begins, this writes the service's own pid into the cgroup it is
 * already in (a move that moves nothing) on a libuv thread: the grace period then passes while the
 * rootfs, network and bundle are made, and the runtime's real move finds the lock warm.
 * (On v2 a runtime could also clone straight into the cgroup; v1 has no such way.)
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCgroupHost } from './cgroup-probe.js';

export class MigrationWarmer {
  private inFlight = false;
  private disabled = false;
  private readonly mountinfo: string;

  constructor(enabled: boolean) {
    this.disabled = !enabled;
    this.mountinfo = enabled ? readFileSync('/proc/self/mountinfo', 'utf8') : '';
  }

  /** Fire and forget: never throws, never waits; off for good once the kernel refuses it. */
  warm(): void {
    if (this.disabled || this.inFlight) return;
    const procs = this.ownProcsFile();
    if (!procs) return;
    this.inFlight = true;
    writeFile(procs, String(process.pid), { flag: 'r+' }).then(
      () => (this.inFlight = false),
      () => {
        this.inFlight = false;
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
