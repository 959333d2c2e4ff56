/** `nestbox run [OPTIONS] IMAGE [COMMAND] [ARG...]` */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs, parseNumber, parseSize, type OptionSpec } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { followProcessStream } from '../process-stream.js';
import { consoleSize, requireTerminalInput } from '../attach-relay.js';
import { followAttached } from '../attached-exit.js';
import { SignalProxy } from '../signal-proxy.js';
import { labelOptions, PROCESS_SPECS, processOptions } from '../process-options.js';
import { checkDistinctDestinations, parseVolumeFlag } from '../../lib/volume-spec.js';
import { realpathSync, statSync } from 'node:fs';
import { pullSettings, showingPulls } from './pull.js';
import { checkLimits, type ResourceLimits } from '../../lib/resource-limits.js';

const SPECS: OptionSpec[] = [
  ...PROCESS_SPECS,
  { name: 'rm', takesValue: false },
  { name: 'name', takesValue: true },
  { name: 'hostname', short: 'h', takesValue: true },
  { name: 'entrypoint', takesValue: true },
  { name: 'network', takesValue: true },
  { name: 'net', takesValue: true },
  { name: 'memory', short: 'm', takesValue: true },
  { name: 'cpus', takesValue: true },
  { name: 'pids-limit', takesValue: true },
  { name: 'memory-swap', takesValue: true },
  { name: 'cpu-shares', short: 'c', takesValue: true },
  { name: 'cpuset-cpus', takesValue: true },
  { name: 'init', takesValue: false },
  /** docker's --pull missing|always|never: whether an image is pulled before the run */
  { name: 'pull', takesValue: true },
  { name: 'volume', short: 'v', takesValue: true, repeatable: true },
  { name: 'label', short: 'l', takesValue: true, repeatable: true },
  { name: 'label-file', takesValue: true, repeatable: true },
  /** docker's --sig-proxy (run only): the CLI's signals go to the container (signal-proxy.ts) */
  { name: 'sig-proxy', takesValue: false },
  // accepted by docker; refused here until the issue that brings it, never ignored
  { name: 'publish', short: 'p', takesValue: true, repeatable: true },
];

const NOT_YET: Record<string, string> = {
  publish: '-p (port publishing needs slirp4netns or bridge networking, not supported yet)',
};

/** run's request; `create` takes the same flags but -d (docker's: nothing runs to detach from) */
export function buildRunRequest(argv: string[], verb: 'run' | 'create' = 'run'): Record<string, unknown> {
  const specs = verb === 'create' ? SPECS.filter((s) => s.name !== 'detach' && s.name !== 'sig-proxy') : SPECS;
  const { options, positionals } = parseArgs(argv, specs, { stopAtFirstPositional: true });
  for (const [name, what] of Object.entries(NOT_YET)) {
    if (options.has(name) && options.get(name)!.at(-1) !== 'false') throw new NestboxError('UNIMPLEMENTED', `not supported yet: ${what}`);
  }
  const [image, ...command] = positionals;
  if (!image) throw new NestboxError('INVALID_ARGUMENT', `"nestbox ${verb}" requires at least 1 argument: IMAGE [COMMAND] [ARG...]`);
  const one = (n: string) => options.get(n)?.at(-1);
  const limits: ResourceLimits = {};
  if (one('memory') !== undefined) limits.memory = parseSize(one('memory')!, '--memory');
  if (one('memory-swap') !== undefined) limits.memorySwap = one('memory-swap') === '-1' ? -1 : parseSize(one('memory-swap')!, '--memory-swap');
  if (one('cpus') !== undefined) limits.cpus = parseNumber(one('cpus')!, '--cpus', false);
  if (one('cpu-shares') !== undefined) limits.cpuShares = parseNumber(one('cpu-shares')!, '--cpu-shares', true);
  if (one('cpuset-cpus') !== undefined) limits.cpusetCpus = one('cpuset-cpus')!;
  if (one('pids-limit') !== undefined) {
    const pids = parseNumber(one('pids-limit')!, '--pids-limit', true);
    // docker's: 0 and -1 mean no limit (a new cgroup's pids.max is already "max")
    if (pids !== 0 && pids !== -1) limits.pidsLimit = pids;
  }
  checkLimits(limits);
  const pull = one('pull') ?? 'missing';
  if (!['missing', 'always', 'never'].includes(pull)) throw new NestboxError('INVALID_ARGUMENT', `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  const volumes = (options.get('volume') ?? []).map(parseVolumeFlag);
  checkDistinctDestinations(volumes);
  for (const v of volumes) if (v.kind === 'bind') v.source = hostPath(v.source);
  const labels = labelOptions(options);
  return {
    image,
    command,
    ...processOptions(options),
    ...(volumes.length ? { volumes } : {}),
    ...(labels.length ? { labels } : {}),
    remove: one('rm') === 'true',
    ...(one('init') === 'true' ? { init: true } : {}),
    network: one('network') ?? one('net') ?? 'none',
    ...(one('entrypoint') !== undefined ? { entrypoint: one('entrypoint') } : {}),
    ...(one('hostname') !== undefined ? { hostname: one('hostname') } : {}),
    ...(one('name') !== undefined ? { name: one('name') } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    // the registry settings are the caller's environment's, added by runCommand
    ...(pull !== 'never' ? { pull: {} } : {}),
    ...(pull === 'always' ? { pullAlways: true } : {}),
    // the CLI's own (runCommand takes it out of the request)
    ...(one('sig-proxy') === 'false' ? { sigProxy: false } : {}),
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { sigProxy, ...request } = buildRunRequest(argv);
  requireTerminalInput(request);
  Object.assign(request, consoleSize(request));
  if (request.pull) request.pull = pullSettings();
  await ensureServices();
  const client = clientFor('lifecycle', 120_000);
  // attached without a terminal: the CLI's signals are the container's (with a terminal its pty has them)
  const proxy = !request.detach && !request.tty && sigProxy !== false ? new SignalProxy() : undefined;
  try {
    // an image not stored is pulled first: its progress goes to stderr (pull.ts)
    return await followProcessStream(showingPulls(client.stream<RunChunk>(LIFECYCLE.run, request), request.image as string), 'run', (chunk) => {
      // -d: docker prints the full id and leaves the container to its shim
      if (request.detach) {
        process.stdout.write(`${chunk.containerId}\n`);
        return 0;
      }
      proxy?.attach(chunk.containerId);
      // -i / -t: stdio straight through the shim's socket; then the run's cleanup (--rm) is awaited
      return chunk.attach ? followAttached(chunk.containerId, { socket: chunk.attach, stdin: request.interactive === true, tty: request.tty === true }) : undefined;
    });
  } finally {
    proxy?.stop();
    client.close();
  }
}

/** A bind source as the services will see it: it must exist (docker would make it; nothing is made here). */
function hostPath(path: string): string {
  try {
    const real = realpathSync(path);
    statSync(real);
    return real;
  } catch (err) {
    throw new NestboxError('INVALID_ARGUMENT', `bind mount source ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}
