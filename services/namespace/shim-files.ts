/**
 * What a container's shim leaves in its directory (native/src/shim/record.h): shim.json (its pid
 * and start time, then the container's) while it runs, exit.json when the container has ended.
 * A pid is only believed with its start time (field 22 of /proc/PID/stat): pids are reused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { procStartTime } from '../../lib/proc-stat.js';
import type { ShimExit } from './attach-client.js';

export { procStartTime };

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
