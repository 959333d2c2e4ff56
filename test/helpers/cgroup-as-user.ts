/**
 * Run by the cgroup-delegated integration test as the unprivileged test user (from a staged,
 * world-readable copy): drives the CgroupManager that user's nestbox would choose, so the kernel's
 * delegation rules are checked without the whole CLI. Prints one JSON line.
 *   create ID...   create with -m 64m --pids-limit 20 --cpus 0.5, add a sleeping child, sample stats
 *   destroy ID...  destroy (kills what is inside)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { selectCgroupManager } from '../../services/cgroup/select-manager.js';

const [verb, ...ids] = process.argv.slice(2);
const manager = selectCgroupManager();
const out: Record<string, unknown> = { driver: manager.driver, unavailable: manager.describe().unavailable, ownCgroup: readFileSync('/proc/self/cgroup', 'utf8').trim() };
try {
  if (verb === 'create') {
    const placements: Record<string, string[]> = {};
    for (const id of ids) {
      placements[id] = manager.create(id, { memory: 64 * 1024 * 1024, pidsLimit: 20, cpus: 0.5 }).paths;
      const child = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
      manager.addProcess(id, child.pid!);
      out.pids = manager.stats(id).pids;
      child.unref();
    }
    out.placements = placements;
  } else if (verb === 'destroy') {
    for (const id of ids) await manager.destroy(id);
  } else {
    throw new Error(`unknown verb ${verb}`);
  }
  out.ok = true;
} catch (err) {
  out.error = (err as Error).message;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
