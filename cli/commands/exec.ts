/** `nestbox exec [OPTIONS] CONTAINER COMMAND [ARG...]` */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs, type OptionSpec } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

const SPECS: OptionSpec[] = [
  { name: 'env', short: 'e', takesValue: true, repeatable: true },
  { name: 'workdir', short: 'w', takesValue: true },
  { name: 'user', short: 'u', takesValue: true },
  // accepted by docker; refused here until an exec has a shim of its own, never ignored
  { name: 'detach', short: 'd', takesValue: false },
  { name: 'interactive', short: 'i', takesValue: false },
  { name: 'tty', short: 't', takesValue: false },
];

const NOT_YET: Record<string, string> = {
  detach: 'exec -d (an exec process has no shim to outlive the service yet)',
  interactive: 'exec -i (stdin of an exec is not attached yet)',
  tty: 'exec -t (a terminal for an exec is not supported yet)',
};

export function buildExecRequest(argv: string[]): Record<string, unknown> {
  const { options, positionals } = parseArgs(argv, SPECS, { stopAtFirstPositional: true });
  for (const [name, what] of Object.entries(NOT_YET)) {
    if (options.has(name) && options.get(name)!.at(-1) !== 'false') throw new NestboxError('UNIMPLEMENTED', `not supported yet: ${what}`);
  }
  const [container, ...args] = positionals;
  if (!container || args.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox exec" requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
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
  return { container, args, env, ...(workdir !== undefined ? { workdir } : {}), ...(user !== undefined ? { user } : {}) };
}

export async function execCommand(argv: string[]): Promise<number> {
  const request = buildExecRequest(argv);
  await ensureServices();
  const client = clientFor('lifecycle', 60_000);
  try {
    for await (const chunk of client.stream<RunChunk>(LIFECYCLE.exec, request)) {
      if ('stream' in chunk) {
        const out = chunk.stream === 'stdout' ? process.stdout : process.stderr;
        const data = Buffer.from(chunk.data, 'base64');
        if (!out.write(data)) await new Promise((r) => out.once('drain', r));
      } else if ('exit' in chunk) {
        if (chunk.exit.error) process.stderr.write(`nestbox: ${chunk.exit.error}\n`);
        return chunk.exit.exitCode;
      }
    }
    throw new NestboxError('INTERNAL', 'the lifecycle service ended the exec without an exit status');
  } finally {
    client.close();
  }
}
