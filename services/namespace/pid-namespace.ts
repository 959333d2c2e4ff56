/**
 * The processes of a container, as `top` lists them: every process of the host in the pid
 * namespace of the container's pid 1 (its exec'd processes too), found by the namespace's inode
 * in /proc/PID/ns/pid. Works rootless as well: the user owns the container's user namespace, so
 * it may read its processes' namespace links.
 */
import { readdirSync, readlinkSync } from 'node:fs';

/** host pids sharing INIT's pid namespace, INIT first; [] when INIT is gone */
export function processesInPidNamespaceOf(init: number): number[] {
  const ns = pidNamespace(init);
  if (ns === undefined) return [];
  const pids = [init];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0 || pid === init) continue;
    if (pidNamespace(pid) === ns) pids.push(pid);
  }
  return pids;
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined; // ended meanwhile, or not ours to look at: not the container's
  }
}
