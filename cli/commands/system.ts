/** `nestbox system info|df|stop|setup-cgroups` */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM } from '../../lib/contracts/patterns.js';
import { runtimeDir } from '../../lib/paths.js';
import { NestboxError } from '../../lib/errors.js';
import { HelpRequested, parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

export async function systemCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') throw new HelpRequested([]);
  if (sub === 'df') return (await import('./system-df.js')).systemDfCommand(rest);
  if (sub === 'prune') return (await import('./prune.js')).pruneCommand('system', rest);
  if (sub === 'setup-cgroups') return (await import('./system-setup-cgroups.js')).setupCgroupsCommand(rest);
  if (parseArgs(rest, [], { stopAtFirstPositional: false }).positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox system ${sub}" accepts no arguments`);
  if (sub === 'info') {
    await ensureServices();
    const client = clientFor('supervisor', 5_000);
    try {
      process.stdout.write(`${JSON.stringify(await client.request(SYSTEM.info, {}), null, 2)}\n`);
    } finally {
      client.close();
    }
    return 0;
  }
  if (sub === 'stop') {
    const pid = supervisorPid();
    const client = clientFor('supervisor', 10_000);
    try {
      await client.request(SYSTEM.stop, {});
    } catch (err) {
      if ((err as NestboxError).code === 'UNAVAILABLE') return 0; // nothing running: already stopped
      throw err;
    } finally {
      client.close();
    }
    if (pid) await waitForExit(pid);
    return 0;
  }
  throw new NestboxError('INVALID_ARGUMENT', `unknown command: "nestbox system ${sub ?? ''}" (use info, df, prune, stop or setup-cgroups)`);
}

function supervisorPid(): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(runtimeDir(), 'supervisor.sock.lock'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** `stop` returns once nestboxd has exited (it stops its services first). */
async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 600 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 25));
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
