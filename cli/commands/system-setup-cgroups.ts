/**
 * `nestbox system setup-cgroups --user NAME [--undo]`: root delegates (or takes back) a cgroup
 * subtree root to one user so that user's rootless containers can have limits. Runs in the CLI
 * itself (no services): it is a one-off change to the host by root.
 */
import { spawnSync } from 'node:child_process';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { probeCgroupHost } from '../../services/cgroup/cgroup-probe.js';
import { type DelegatedUser, removeDelegation, setupDelegation } from '../../services/cgroup/cgroup-setup.js';

const USAGE = 'usage: nestbox system setup-cgroups --user NAME [--undo]';

function lookUpUser(name: string): DelegatedUser {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(name)) throw new NestboxError('INVALID_ARGUMENT', `setup-cgroups: invalid user name "${name}"`);
  const uid = spawnSync('id', ['-u', '--', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', '--', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new NestboxError('INVALID_ARGUMENT', `setup-cgroups: no such user "${name}"`);
  const user = { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  if (user.uid === 0) throw new NestboxError('INVALID_ARGUMENT', `setup-cgroups: "${name}" is root, which needs no delegation`);
  return user;
}

export async function setupCgroupsCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'user', takesValue: true },
    { name: 'undo', takesValue: false },
    { name: 'remove', takesValue: false },
  ], { stopAtFirstPositional: false });
  const name = options.get('user')?.[0];
  if (positionals.length || !name) throw new NestboxError('INVALID_ARGUMENT', USAGE);
  if (process.getuid?.() !== 0) throw new NestboxError('FAILED_PRECONDITION', 'setup-cgroups must be run as root');
  const user = lookUpUser(name);
  const undo = options.has('undo') || options.has('remove');
  const lines = undo ? removeDelegation(probeCgroupHost(), user) : setupDelegation(probeCgroupHost(), user);
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}
