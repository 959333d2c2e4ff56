import { humanDuration } from '../docker-time.js';

/** docker's plain tables: columns padded to the widest cell plus three spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** docker's Ellipsis: at most N characters, the last one "…" when cut */
export const ellipsis = (s: string, n: number): string => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/** docker's "... ago" (go-units HumanDuration) for images, history and df */
export function ago(iso: string, now = Date.now()): string {
  return `${humanDuration(Math.max(0, now - Date.parse(iso)))} ago`;
}
