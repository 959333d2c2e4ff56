/**
 * Fixed waits in tests, scaled for slow machines. The kernel matrix runs the suite in guests
 * under TCG (about 10x slower than the host) and sets NESTBOX_TEST_TIME_FACTOR there; on the host
 * the factor is 1. A wait is a deadline for something that normally takes far less, never a sleep.
 */
export function timeFactor(): number {
  const raw = process.env.NESTBOX_TEST_TIME_FACTOR;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 1 || n > 100) throw new Error(`NESTBOX_TEST_TIME_FACTOR must be a number from 1 to 100, got '${raw}'`);
  return n;
}

export function scaled(ms: number): number {
  return Math.round(ms * timeFactor());
}
