/**
 * The runtime's own init (annotation io.nestbox.init "true"): pid 1 is nestbox-init, the command
 * its child; orphans are reaped, the usual signals forwarded, 128+N for a signal. Root and rootless.
 */
import { readFileSync } from 'node:fs';
import { type Config, both, finish, makeBundle, readPid, registerRuntimeHooks, removeBundle, runIn, start, waitFor } from '../helpers/runtime-bundle.js';
import { scaled } from '../helpers/time.js';
registerRuntimeHooks();

function children(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}
function comm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const withInit = (c: Config) => {
  c.annotations['io.nestbox.init'] = 'true';
};

both('without init the command is pid 1; with init it is pid 2 under nestbox-init', async (t, mode) => {
  const script = 'echo $$; cat /proc/1/comm; tr "\\0" " " < /proc/1/cmdline; echo';
  const plain = await runIn(t, mode, ['sh', '-c', script]);
  t.is(plain.stdout.split('\n')[0], '1');
  const init = await runIn(t, mode, ['sh', '-c', script], withInit);
  const [pid, comm, cmdline] = init.stdout.split('\n');
  t.is(pid, '2');
  t.is(comm, 'nestbox-init');
  t.is(cmdline.trim(), 'nestbox-init', 'no host path of the runtime shows in the container');
  t.is(init.code, 0, init.stderr);
});

both('init reaps an orphan of a double fork: no zombie is left', async (t, mode) => {
  // The orphan is re-parented to pid 1 (sh is pid 2 here and never waits for it); after it
  // exits, only a reaping init keeps it from staying a zombie.
  const snapshot = 'for f in /proc/[0-9]*/stat; do read l < $f; echo "$l"; done';
  // No fixed sleeps (a slow machine breaks them): the subshell has exited when sh goes on, so
  // the orphan is pid 1's; after it is killed, wait (bounded) for its /proc entry to go.
  const tries = Math.ceil(scaled(5000) / 50);
  const r = await runIn(t, mode, ['sh', '-c', `(sleep 60 & echo $! > /tmp/o); o=$(cat /tmp/o); echo $o; ${snapshot}; echo --; kill $o; ` +
    `i=0; while [ -e /proc/$o ] && [ $i -lt ${tries} ]; do sleep 0.05; i=$((i+1)); done; ${snapshot}`], withInit);
  t.is(r.code, 0, r.stderr);
  const [first, rest] = [r.stdout.slice(0, r.stdout.indexOf('\n')), r.stdout.slice(r.stdout.indexOf('\n') + 1)];
  const orphan = Number(first);
  const [during, after] = rest.split('--\n').map((s) => s.trim().split('\n').map((l) => {
    const tail = l.slice(l.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(l.slice(0, l.indexOf(' '))), state: tail[0], ppid: Number(tail[1]) };
  }));
  // by pid, not by name: on a slow machine the orphan may not have exec'd sleep yet
  t.true(during.some((p) => p.pid === orphan && p.ppid === 1), `the orphan ${orphan} runs under pid 1: ${JSON.stringify(during)}`);
  t.deepEqual(after.filter((p) => p.state === 'Z'), [], 'a zombie was left');
  t.false(after.some((p) => p.pid === orphan), 'the orphan is gone');
});

both('init forwards SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 to the command', async (t, mode) => {
  for (const sig of ['TERM', 'INT', 'HUP', 'USR1', 'USR2'] as const) {
    const b = makeBundle(mode, ['sh', '-c', `trap "echo got ${sig}; exit 3" ${sig}; echo ready; while :; do sleep 0.05; done`], withInit);
    t.teardown(() => removeBundle(b));
    const child = start(b);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const done = finish(b, child);
    await waitFor('ready', () => (out.includes('ready') ? true : undefined));
    child.kill(`SIG${sig}`);
    const r = await done;
    t.is(r.code, 3, `${sig}: ${r.stderr}`);
    t.is(out, `ready\ngot ${sig}\n`);
  }
});

both('a command killed by a signal: init exits 128+N (sleep, which as pid 1 would ignore SIGTERM)', async (t, mode) => {
  const b = makeBundle(mode, ['sleep', '30'], withInit);
  t.teardown(() => removeBundle(b));
  const child = start(b);
  const done = finish(b, child);
  const pid = await waitFor('the pid file', () => readPid(b));
  // The command is init's child: wait until it runs, then signal the runtime as a caller would.
  await waitFor('sleep under init', () => (children(pid).some((k) => comm(k) === 'sleep') ? true : undefined));
  child.kill('SIGTERM');
  const r = await done;
  t.is(r.code, 143);
  t.deepEqual(r.status, { exitCode: 143 });
});

both('with init: the exit code, and a missing command, are reported as without', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'exit 7'], withInit);
  t.is(r.code, 7);
  t.deepEqual(r.status, { exitCode: 7 });
  const missing = await runIn(t, mode, ['nosuchcmd'], withInit);
  t.is(missing.code, 127);
  t.deepEqual(missing.status, { exitCode: 127, error: 'exec: "nosuchcmd": executable file not found in $PATH', stage: 'exec' });
});

both('a bad io.nestbox.init value is a config error', async (t, mode) => {
  const r = await runIn(t, mode, ['true'], (c) => {
    c.annotations['io.nestbox.init'] = 'yes';
  });
  t.is(r.code, 125);
  t.deepEqual(r.status, { exitCode: 125, error: 'config.json: annotations: io.nestbox.init: "yes" must be true or false', stage: 'setup' });
});

