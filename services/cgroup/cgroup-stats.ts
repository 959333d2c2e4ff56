/**
 * Parsing of cgroup counter files and the host's CPU time, shared by the v1 and v2 drivers.
 * Pure except for readCounter/hostCpu, which only read files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** "key value" lines (memory.stat, cpu.stat, memory.events). */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A single-number knob; "max" (v2) or v1's near-2^63 "unlimited" become undefined. */
export function parseLimit(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max' || t === '' || !/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  // v1 reports "no limit" as PAGE_COUNTER_MAX * page size, about 2^63
  return n >= 2 ** 62 ? undefined : n;
}

export function readText(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The host's CPU time so far in nanoseconds (the "cpu" line of /proc/stat, in USER_HZ = 100
 * ticks, as docker's system_cpu_usage) and the number of online CPUs.
 */
export function parseProcStat(text: string): { systemCpuNs: number; onlineCpus: number } {
  const lines = text.split('\n');
  const total = lines.find((l) => l.startsWith('cpu '))!.trim().split(/\s+/).slice(1, 8).reduce((s, x) => s + Number(x), 0);
  const onlineCpus = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return { systemCpuNs: total * 1e7, onlineCpus };
}

export function hostCpu(): { systemCpuNs: number; onlineCpus: number } {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

/** Host memory, docker's limit shown when a container has none. */
export function hostMemory(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
