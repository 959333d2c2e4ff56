/**
 * docker's human sizes (go-units HumanSizeWithPrecision): decimal units B, kB, MB, GB...,
 * the number as Go's `%.Ng` prints it: `images` uses 3 significant digits (4.26MB), `system df` 4.
 */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${goFormatG(size, precision)}${UNITS[unit]}`;
}

/** Go's %.Pg: P significant digits, trailing zeros dropped, exponent as e+03 when it is >= P. */
export function goFormatG(n: number, precision: number): string {
  if (n === 0) return '0';
  const text = n.toPrecision(precision);
  const trim = (m: string) => (m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m);
  const e = text.indexOf('e');
  if (e < 0) return trim(text);
  const exponent = text.slice(e + 1);
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${trim(text.slice(0, e))}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
}
