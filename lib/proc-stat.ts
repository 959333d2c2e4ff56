/**
 * Facts about a process from /proc/PID/stat. A zombie counts as gone: it holds nothing any more,
 * and where pid 1 reaps late (some VM or container inits), killed processes stay zombies for a
 * while. A pid is only believed with its start time (field 22): pids are reused.
 */
import { readFileSync } from 'node:fs';

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields are counted after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (clock ticks since boot), or undefined when gone or a zombie. */
export function procStartTime(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f || f[0] === 'Z' || f[0] === 'X') return undefined;
  const start = Number(f[19]); // field 3 is f[0]
  return Number.isFinite(start) ? start : undefined;
}

/** The process exists but has exited (waiting to be reaped). */
export function isZombie(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state === 'Z' || state === 'X';
}
