/**
 * What a container's shim leaves in its directory (native/src/shim/record.h): shim.json (its pid
 * and start time, then the container's) while it runs, exit.json when the container has ended.
 * A pid is only believed with its start time (field 22 of /proc/PID/stat): pids are reused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShimExit } from './attach-client.js';

export interface ShimRecord {
  pid: number;
  startTime: number;
  containerPid?: number;
  containerStartTime?: number;
}

export type ContainerProcessState =
  | { status: 'running'; shim: ShimRecord }
  | { status: 'exited'; exit: ShimExit }
  | { status: 'none' };

/** Field 22 of /proc/PID/stat, or undefined when the process is gone (or a zombie). */
export function procStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const start = Number(fields[19]); // field 3 is fields[0]
  return Number.isFinite(start) ? start : undefined;
}

/** PID is alive and is the process that started at START (not a reuse of its number). */
export function isSameProcess(pid: number, start: number): boolean {
  return procStartTime(pid) === start;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readShimRecord(containerDir: string): ShimRecord | undefined {
  const r = readJson<ShimRecord>(join(containerDir, 'shim.json'));
  return r && Number.isInteger(r.pid) && Number.isInteger(r.startTime) ? r : undefined;
}

export function readExit(containerDir: string): ShimExit | undefined {
  const e = readJson<ShimExit>(join(containerDir, 'exit.json'));
  return e && typeof e.exitCode === 'number' ? e : undefined;
}

/** exit.json wins (written before the shim lets go); else a live shim means running. */
export function containerProcessState(containerDir: string): ContainerProcessState {
  const exit = readExit(containerDir);
  if (exit) return { status: 'exited', exit };
  const shim = readShimRecord(containerDir);
  if (shim && isSameProcess(shim.pid, shim.startTime)) return { status: 'running', shim };
  // the shim may have finished between the two reads
  const late = readExit(containerDir);
  return late ? { status: 'exited', exit: late } : { status: 'none' };
}
