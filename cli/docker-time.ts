/** How docker words times: go-units' HumanDuration, `ps`'s STATUS, Go's time.String(). */

/** go-units HumanDuration: "Less than a second", "About a minute", "2 hours", "3 weeks"... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

export interface StatusFields {
  state: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
}

const since = (iso: string | undefined, now: number) => Math.max(0, now - (iso ? Date.parse(iso) : now));

/** docker ps's STATUS: `Up 3 seconds`, `Exited (0) 5 seconds ago`, `Created`, `Removal In Progress` */
export function psStatus(c: StatusFields, now = Date.now()): string {
  switch (c.state) {
    // a container in its stop grace still runs, as docker shows it
    case 'running': case 'stopping': return `Up ${humanDuration(since(c.startedAt, now))}`;
    case 'exited': return c.finishedAt ? `Exited (${c.exitCode ?? 0}) ${humanDuration(since(c.finishedAt, now))} ago` : `Exited (${c.exitCode ?? 0})`;
    case 'created': case 'creating': return 'Created';
    case 'removing': return 'Removal In Progress';
    default: return c.state.charAt(0).toUpperCase() + c.state.slice(1);
  }
}

/** Go's time.Time.String() in UTC, as docker's CreatedAt: `2026-12-05 04:21:37 +0000 UTC` */
export function goTimeString(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
