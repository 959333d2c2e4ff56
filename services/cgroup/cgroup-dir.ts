/** File operations on one cgroup directory shared by the v1 and v2 drivers. */
import { mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';

export function makeCgroup(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

export function writeKnob(dir: string, file: string, value: string): void {
  try {
    writeFileSync(join(dir, file), value);
  } catch (err) {
    throw new NestboxError('FAILED_PRECONDITION', `cannot set ${file}=${value} in ${dir}: ${(err as Error).message}`);
  }
}

export function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Removes a cgroup directory, killing what is still inside first (a process that outlived its
 * container's pid 1 for a moment keeps the cgroup busy). Retries briefly: exiting tasks linger.
 */
export async function removeCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const pid of pidsIn(dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw new NestboxError('INTERNAL', `cannot remove cgroup ${dir}: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new NestboxError('INTERNAL', `cgroup ${dir} is still busy after 1 s`);
}

/** Removes the `nestbox` parent when no container cgroup is left in it. */
export function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* still in use by another container, or already gone */
  }
}

const CONTAINER_DIR = /^[0-9a-f]{64}$/;

/**
 * A cgroup this young may be one being set up (created, the runtime not in it yet), by another
 * nestbox instance sharing the same parent (every instance started from one cgroup does): never
 * abandoned.
 */
const SETUP_GRACE_MS = 60_000;

function isFresh(dir: string): boolean {
  try {
    return Date.now() - statSync(dir).ctimeMs < SETUP_GRACE_MS;
  } catch {
    return false;
  }
}

/** Container cgroups under `parent` that hold no process (and are not being set up). */
export function emptyContainerCgroups(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => CONTAINER_DIR.test(n));
  } catch {
    return [];
  }
  return names.filter((n) => pidsIn(join(parent, n)).length === 0 && existsSync(join(parent, n, 'cgroup.procs')) && !isFresh(join(parent, n)));
}

/** Waits (up to 2 s) until a state knob reads `want` (v1 freezer.state, v2 cgroup.events frozen). */
export async function untilKnobReads(dir: string, file: string, want: string | RegExp): Promise<void> {
  for (let i = 0; i < 200; i++) {
    let text = '';
    try { text = readFileSync(join(dir, file), 'utf8').trim(); } catch { /* gone */ }
    if (typeof want === 'string' ? text === want : want.test(text)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new NestboxError('INTERNAL', `${join(dir, file)} did not become ${String(want)} within 2 s`);
}
