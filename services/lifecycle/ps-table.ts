/**
 * `top`'s reading of the host's ps output, as docker's daemon does it (moby daemon/top_unix.go):
 * the first line's words are the titles, one must be PID; a row is kept when its PID is one of
 * the container's (and a thread row, PID `-`, when the row before it was kept: ps -m); a row's
 * words beyond the titles are joined into the last column (a command line with spaces).
 */
import { NestboxError } from '../../lib/errors.js';
import type { TopReply } from '../../lib/contracts/types.js';

/**
 * ps options that would pass another column off as PID (`-o user=PID`) are refused, as docker's
 * validatePSArgs does: the rows would be filtered by the wrong numbers.
 */
export function checkPsArgs(psArgs: string[]): void {
  for (const m of ` ${psArgs.join(' ')}`.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw new NestboxError('INVALID_ARGUMENT', `specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

export function parsePsOutput(output: string, pids: ReadonlySet<number>): TopReply {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new NestboxError('INVALID_ARGUMENT', "Couldn't find PID field in ps output");
  const rows: string[][] = [];
  let lastKept = false;
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/).filter(Boolean);
    if (!fields.length) continue;
    const pid = fields[pidIndex];
    if (pid === '-') {
      if (lastKept) rows.push(row(fields, titles.length));
      continue;
    }
    if (pid === undefined || !/^\d+$/.test(pid)) throw new NestboxError('INTERNAL', `unexpected pid '${pid ?? ''}' in ps output`);
    lastKept = pids.has(Number(pid));
    if (lastKept) rows.push(row(fields, titles.length));
  }
  return { Titles: titles, Processes: rows };
}

function row(fields: string[], columns: number): string[] {
  return [...fields.slice(0, columns - 1), fields.slice(columns - 1).join(' ')];
}
