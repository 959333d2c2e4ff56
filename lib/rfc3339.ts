/** RFC3339(Nano) times, as the containers' logs stamp their lines, at full precision. */

/** TIME as nanoseconds since the epoch (undefined if it is not RFC3339): a bigint keeps the nanoseconds. */
export function rfc3339Nanos(time: string): bigint | undefined {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9})\d*)?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
