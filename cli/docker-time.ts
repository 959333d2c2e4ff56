/** How docker words times: go-units' HumanDuration, `ps`'s STATUS, Go's time.String(), `logs --since`. */
import { NestboxError } from '../lib/errors.js';

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
  paused?: boolean;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
}

const since = (iso: string | undefined, now: number) => Math.max(0, now - (iso ? Date.parse(iso) : now));

/** docker ps's STATUS: `Up 3 seconds`, `Exited (0) 5 seconds ago`, `Created`, `Removal In Progress` */
export function psStatus(c: StatusFields, now = Date.now()): string {
  switch (c.state) {
    // a container in its stop grace still runs, as docker shows it
    case 'running': case 'stopping': return `Up ${humanDuration(since(c.startedAt, now))}${c.paused ? ' (Paused)' : ''}`;
    case 'exited': return c.finishedAt ? `Exited (${c.exitCode ?? 0}) ${humanDuration(since(c.finishedAt, now))} ago` : `Exited (${c.exitCode ?? 0})`;
    case 'created': case 'creating': return 'Created';
    case 'removing': return 'Removal In Progress';
    default: return c.state.charAt(0).toUpperCase() + c.state.slice(1);
  }
}

/**
 * Go's time.Time.String() in the local zone (TZ, else the system's), as docker's CreatedAt:
 * `2026-12-05 04:21:37 +0000 UTC`, `2026-12-05 05:21:37 +0100 CET`; a zone with no name of its
 * own is named by its offset (`+0530`... as `+0530`, `+03` for whole hours), as Go does.
 */
const ZONE_NAME_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'ja-JP'];

/**
 * Intl formatters, made once a process: the first costs ~10 ms (ICU's start), each more ~0.2 ms;
 * so the callers ask only when a CreatedAt is shown (ps, images and history make it lazily).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify([locale, timeZone, options]);
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(locale, { timeZone, ...options })));
  return f;
}

export function goTimeString(iso: string, timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = (options: Intl.DateTimeFormatOptions, locale = 'en-US') =>
    Object.fromEntries(formatter(locale, timeZone, options).formatToParts(d).map((p) => [p.type, p.value]));
  const p = parts({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
  const offset = p.timeZoneName === 'GMT' ? '+0000' : p.timeZoneName.replace('GMT', '').replace(':', '');
  // ICU names a zone in the locales that use it (CET in en-GB, AEDT in en-AU, JST in ja-JP)
  const name = ZONE_NAME_LOCALES.map((l) => parts({ timeZoneName: 'short' }, l).timeZoneName).find((n) => /^[A-Z]{2,5}$/.test(n))
    ?? (offset.endsWith('00') ? offset.slice(0, 3) : offset);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${offset} ${name}`;
}

const GO_DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const GO_UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?([Zz]|[+-]\d\d:\d\d)?$/;

/**
 * docker's `logs --since/--until` value as nanoseconds since the epoch: a Go duration before
 * NOW (`10m`, `1h30m`, `1.5s`), a unix time (`1136073600`, `1136073600.5`), or an RFC3339 date or
 * date-time (`2006-01-02`, `2006-01-02T15:04`, `2006-01-02T15:04:05.999999999Z07:00`), in the
 * local zone when it names none. Anything else is one line naming FLAG.
 */
export function parseLogTime(value: string, flag: string, now = Date.now()): bigint {
  if (value !== '0' && GO_DURATION.test(value)) {
    let ns = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) ns += Number(m[1]) * GO_UNIT_NS[m[2]];
    return BigInt(now) * 1_000_000n - BigInt(Math.round(value.startsWith('-') ? -ns : ns));
  }
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const d = DATE_TIME.exec(value);
  if (d) {
    const [y, mo, day, h, mi, s] = d.slice(1, 7).map((x) => Number(x ?? 0));
    const zone = d[8];
    const valid = mo >= 1 && mo <= 12 && day >= 1 && day <= new Date(Date.UTC(y, mo, 0)).getUTCDate() && h <= 23 && mi <= 59 && s <= 59;
    let ms: number;
    if (!zone) ms = new Date(y, mo - 1, day, h, mi, s).getTime();
    else {
      const offset = /^[Zz]$/.test(zone) ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      ms = Date.UTC(y, mo - 1, day, h, mi, s) - offset * 60_000;
    }
    if (valid && !Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt((d[7] ?? '').padEnd(9, '0'));
  }
  throw new NestboxError('INVALID_ARGUMENT', `invalid value for --${flag}: "${value}" (a duration before now like 10m, a unix time, or an RFC3339 date-time)`);
}

