/**
 * docker-style argument parsing: options before the first positional (the image for `run`),
 * everything after it belongs to the container's command. `-abc` bundles booleans; values come
 * as `-e K=V`, `-eK=V`, `--env K=V` or `--env=K=V`.
 */
import { NestboxError } from '../lib/errors.js';

export interface OptionSpec {
  /** long name without dashes */
  name: string;
  short?: string;
  takesValue: boolean;
  repeatable?: boolean;
}

/**
 * `VERB --help` (or `-h` where the verb has no -h of its own): thrown by parseArgs with the verb's
 * flags, so the caller prints its usage and exits 0, as docker's commands do.
 */
export class HelpRequested extends Error {
  constructor(readonly specs: OptionSpec[]) {
    super('help requested');
  }
}

/** The verb's flags as docker lists them: `  -d, --detach`, `      --name string`. */
export function formatOptions(specs: OptionSpec[]): string {
  const rows = specs.map((s) => `  ${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.takesValue ? (s.repeatable ? ' list' : ' string') : ''}`);
  return rows.length ? `Options:\n${rows.join('\n')}\n` : '';
}

export interface Parsed {
  options: Map<string, string[]>;
  positionals: string[];
}

export function parseArgs(argv: string[], specs: OptionSpec[], opts: { stopAtFirstPositional: boolean }): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  const put = (spec: OptionSpec, value: string) => {
    const list = options.get(spec.name) ?? [];
    if (list.length && !spec.repeatable && spec.takesValue) list.length = 0;
    list.push(value);
    options.set(spec.name, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = byLong.get(name);
      if (!spec && name === 'help' && eq < 0) throw new HelpRequested(specs);
      if (!spec) throw new NestboxError('INVALID_ARGUMENT', `unknown flag: --${name}`);
      if (spec.takesValue) {
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new NestboxError('INVALID_ARGUMENT', `flag needs an argument: --${name}`);
        put(spec, value);
      } else {
        if (eq > 0 && !['true', 'false'].includes(arg.slice(eq + 1))) throw new NestboxError('INVALID_ARGUMENT', `flag --${name} takes no value`);
        put(spec, eq > 0 ? arg.slice(eq + 1) : 'true');
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(arg[j]);
        if (!spec && arg === '-h') throw new HelpRequested(specs);
        if (!spec) throw new NestboxError('INVALID_ARGUMENT', `unknown shorthand flag: '${arg[j]}' in ${arg}`);
        if (spec.takesValue) {
          const rest = arg.slice(j + 1);
          const value = rest !== '' ? rest : argv[++i];
          if (value === undefined) throw new NestboxError('INVALID_ARGUMENT', `flag needs an argument: '${arg[j]}' in ${arg}`);
          put(spec, value);
          break;
        }
        put(spec, 'true');
      }
      continue;
    }
    if (opts.stopAtFirstPositional) {
      positionals.push(...argv.slice(i));
      break;
    }
    positionals.push(arg);
  }
  return { options, positionals };
}

/** docker's sizes: 64m, 1g, 512k, 1024b, plain bytes */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(text.trim());
  if (!m) throw new NestboxError('INVALID_ARGUMENT', `invalid size for ${flag}: "${text}" (use e.g. 64m or 1g)`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * unit);
}

export function parseNumber(text: string, flag: string, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new NestboxError('INVALID_ARGUMENT', `invalid value for ${flag}: "${text}" (expected ${integer ? 'an integer' : 'a number'})`);
  }
  return n;
}
