/** docker's signal names for `kill -s`: KILL, SIGKILL, kill, 9 -> 9; anything else refused in one line. */
import { constants } from 'node:os';
import { NestboxError } from '../lib/errors.js';

const BY_NAME: Record<string, number> = { ...(constants.signals as Record<string, number>) };

export function parseSignal(text: string): number {
  const raw = text.trim();
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    // 1..31 standard, 34..64 real-time (what the kernel takes)
    if (n >= 1 && n <= 64 && n !== 32 && n !== 33) return n;
  } else {
    const upper = raw.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
    if (rt) {
      const n = name.startsWith('SIGRTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
      if (n >= 34 && n <= 64) return n;
    } else if (BY_NAME[name] !== undefined && BY_NAME[name] > 0) {
      return BY_NAME[name];
    }
  }
  throw new NestboxError('INVALID_ARGUMENT', `invalid signal: ${text}`);
}
