/**
 * The options `run` and `exec` share, docker's: the process's environment, working directory and
 * user, and how it is attached (-i, -t, -d). Checked here so a mistake is named before any
 * service starts.
 */
import { NestboxError } from '../lib/errors.js';
import type { OptionSpec } from './args.js';

export const PROCESS_SPECS: OptionSpec[] = [
  { name: 'env', short: 'e', takesValue: true, repeatable: true },
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
  const env = (options.get('env') ?? []).map((e) => {
    if (e.includes('=')) return e;
    const v = process.env[e]; // docker: -e NAME passes the caller's value, or nothing
    return v === undefined ? undefined : `${e}=${v}`;
  }).filter((e): e is string => e !== undefined);
  const user = one('user');
  if (user !== undefined && !/^\d{1,10}(:\d{1,10})?$/.test(user)) {
    throw new NestboxError('INVALID_ARGUMENT', `user "${user}" must be numeric UID[:GID]`);
  }
  const workdir = one('workdir');
  if (workdir !== undefined && !workdir.startsWith('/')) throw new NestboxError('INVALID_ARGUMENT', `working directory "${workdir}" must be an absolute path`);
  const o: ProcessOptions = { env };
  if (workdir !== undefined) o.workdir = workdir;
  if (user !== undefined) o.user = user;
  for (const flag of ['detach', 'interactive', 'tty'] as const) if (one(flag) === 'true') o[flag] = true;
  return o;
}
