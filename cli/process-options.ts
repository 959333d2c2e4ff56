/**
 * The options `run` and `exec` share, docker's: the process's environment, working directory and
 * user, and how it is attached (-i, -t, -d). Checked here so a mistake is named before any
 * service starts.
 */
import { readFileSync } from 'node:fs';
import { NestboxError } from '../lib/errors.js';
import { USER_SPEC } from '../lib/contracts/validators.js';
import type { OptionSpec } from './args.js';

export const PROCESS_SPECS: OptionSpec[] = [
  { name: 'env', short: 'e', takesValue: true, repeatable: true },
  { name: 'env-file', takesValue: true, repeatable: true },
  { name: 'workdir', short: 'w', takesValue: true },
  { name: 'user', short: 'u', takesValue: true },
  { name: 'detach', short: 'd', takesValue: false },
  { name: 'interactive', short: 'i', takesValue: false },
  { name: 'tty', short: 't', takesValue: false },
];

export interface ProcessOptions {
  env: string[];
  workdir?: string;
  user?: string;
  detach?: true;
  interactive?: true;
  tty?: true;
}

export function processOptions(options: Map<string, string[]>): ProcessOptions {
  const one = (n: string) => options.get(n)?.at(-1);
  // docker's order: the files first, then -e, a later entry overriding an earlier one
  const fromFiles = (options.get('env-file') ?? []).flatMap((path) => parseEnvFile(readOptionFile(path, '--env-file'), path));
  const env = [...fromFiles, ...(options.get('env') ?? [])].map((e) => {
    if (e.includes('=')) return e;
    const v = process.env[e]; // docker: -e NAME passes the caller's value, or nothing
    return v === undefined ? undefined : `${e}=${v}`;
  }).filter((e): e is string => e !== undefined);
  const user = one('user');
  if (user !== undefined && !USER_SPEC.test(user)) {
    throw new NestboxError('INVALID_ARGUMENT', `user "${user}" must be USER[:GROUP] (names or numeric ids)`);
  }
  const workdir = one('workdir');
  if (workdir !== undefined && !workdir.startsWith('/')) throw new NestboxError('INVALID_ARGUMENT', `working directory "${workdir}" must be an absolute path`);
  const o: ProcessOptions = { env };
  if (workdir !== undefined) o.workdir = workdir;
  if (user !== undefined) o.user = user;
  for (const flag of ['detach', 'interactive', 'tty'] as const) if (one(flag) === 'true') o[flag] = true;
  return o;
}

/** docker's option files (--env-file, --label-file): their lines left-trimmed, blank and # lines skipped, with their numbers */
function optionFileLines(text: string): { line: string; number: number }[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)
    .map((raw, i) => ({ line: raw.replace(/^\s+/, ''), number: i + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
}

/** A file FLAG names (--env-file, --label-file), or one line saying why it cannot be read. */
export function readOptionFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NestboxError('INVALID_ARGUMENT', `${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
  }
}

/**
 * `-l/--label KEY[=VALUE]` and `--label-file FILE` (a KEY[=VALUE] a line; blank lines and # lines
 * skipped), docker's order: the files first, then -l, a later KEY overriding an earlier one.
 */
export function labelOptions(options: Map<string, string[]>): string[] {
  const fromFiles = (options.get('label-file') ?? []).flatMap((path) => optionFileLines(readOptionFile(path, '--label-file')).map(({ line }) => line));
  const labels = [...fromFiles, ...(options.get('label') ?? [])];
  for (const l of labels) {
    if (l === '' || l.startsWith('=')) throw new NestboxError('INVALID_ARGUMENT', `invalid label '${l}': no key before '='`);
    if (l.includes('\0')) throw new NestboxError('INVALID_ARGUMENT', 'a label contains a NUL byte');
  }
  return labels;
}

/**
 * docker's --env-file format: one NAME=VALUE or NAME (the caller's value) per line, taken
 * literally (no quotes, no expansion); blank lines and lines starting with # are skipped.
 */
export function parseEnvFile(text: string, path: string): string[] {
  return optionFileLines(text).map(({ line, number }) => {
    const eq = line.indexOf('=');
    const name = eq < 0 ? line.trimEnd() : line.slice(0, eq);
    if (name === '') throw new NestboxError('INVALID_ARGUMENT', `--env-file ${path} line ${number}: no variable name before '='`);
    if (/\s/.test(name)) throw new NestboxError('INVALID_ARGUMENT', `--env-file ${path} line ${number}: variable '${name}' contains whitespace`);
    if (name.includes('\0') || (eq >= 0 && line.includes('\0', eq))) throw new NestboxError('INVALID_ARGUMENT', `--env-file ${path} line ${number}: contains a NUL byte`);
    return eq < 0 ? name : line;
  });
}
