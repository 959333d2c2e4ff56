/** docker's plain tables: columns padded to the widest cell plus three spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'} ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'} ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'} ago`;
  // docker's (go-units HumanDuration, whole units) beyond two days: an image's age is often years
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days ago`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks ago`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months ago`;
  return `${Math.floor(h / 24 / 365)} years ago`;
}
