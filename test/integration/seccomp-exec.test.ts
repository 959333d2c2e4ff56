/**
 * The seccomp filter covers every process of a container: its init (io.nestbox.init) and what
 * `nestbox-runtime exec --config` starts in it later, as root and rootless.
 */
import { lchownSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import {
  type Bundle, type Config, type Mode, both, registerRuntimeHooks, runIn,
  serviceProfile, testUser,
} from '../helpers/runtime-bundle.js';
import { installProbe, registerProbeHooks } from '../helpers/probe.js';
import { runningContainer, runtimeExec } from '../helpers/runtime-exec.js';
registerRuntimeHooks();
registerProbeHooks();

/** A service-profile container running sleep; its pid 1 once the command runs. */
function sleeper(t: ExecutionContext, mode: Mode, edit?: (c: Config) => void): Promise<{ b: Bundle; pid: number }> {
  return runningContainer(t, mode, ['sleep', '60'], (c, bb) => {
    serviceProfile(c);
    installProbe(bb.lower);
    symlinkSync('busybox', join(bb.lower, 'bin', 'grep'));
    edit?.(c);
  }, 'sleep');
}

/** `exec --pid PID --process FILE [EXTRA]` as MODE's user. */
const exec = (b: Bundle, pid: number, args: string[], extra: string[]) =>
  runtimeExec(b, pid, { args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, noNewPrivileges: true }, extra);

const CHECK = ['sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; probe keyctl'];
const flat = (s: string) => s.replace(/[ \t]+/g, ' ');

both('exec --config runs the process under the container\'s filter', async (t, mode) => {
  const { b, pid } = await sleeper(t, mode);
  const r = await exec(b, pid, CHECK, ['--config', join(b.dir, 'config.json')]);
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  t.is(flat(r.stdout), 'NoNewPrivs: 1\nSeccomp: 2\nerrno EPERM\n');
  // (control) the exec'd process does not inherit a filter: without --config it has none
  const bare = await exec(b, pid, CHECK, []);
  t.is(flat(bare.stdout), 'NoNewPrivs: 1\nSeccomp: 0\nok\n');
});

both('exec --config with a malformed seccomp section is a setup error naming the file', async (t, mode) => {
  const { b, pid } = await sleeper(t, mode);
  const bad = join(b.base, 'bad-config.json');
  writeFileSync(bad, JSON.stringify({ linux: { seccomp: { defaultAction: 'SCMP_ACT_NOPE' } } }));
  if (mode === 'rootless') lchownSync(bad, testUser().uid, testUser().gid);
  const r = await exec(b, pid, ['true'], ['--config', bad]);
  t.is(r.code, 125);
  t.deepEqual(r.status, { exitCode: 125, error: `${bad}: linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"`, stage: 'setup' });
});

both('with io.nestbox.init the init (pid 1) runs under the filter too', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'grep -E "^(Name|Seccomp):" /proc/1/status /proc/self/status'], (c, b) => {
    serviceProfile(c);
    installProbe(b.lower);
    symlinkSync('busybox', join(b.lower, 'bin', 'grep'));
    c.annotations['io.nestbox.init'] = 'true';
  });
  t.is(r.code, 0, JSON.stringify(r.status));
  const lines = flat(r.stdout).trim().split('\n');
  t.regex(lines[0], /^\/proc\/1\/status:Name: nestbox-/, 'pid 1 is the runtime\'s init');
  t.deepEqual(lines.slice(1), ['/proc/1/status:Seccomp: 2', '/proc/self/status:Name: grep', '/proc/self/status:Seccomp: 2']);
});
