/**
 * `run --init` end to end, and the namespace service's exec pattern driven over its real ZeroMQ
 * endpoint while a container runs (the `nestbox exec` verb needs detached containers: until
 * then, this is how the pattern is exercised). Root and rootless.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { RunChunk } from '../../lib/contracts/types.js';
import { endpointOf } from '../../lib/paths.js';
import { RpcClient } from '../../lib/transport/index.js';
import { eachInstance } from '../helpers/each-instance.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';

const each = eachInstance();

interface Collected { out: string; err: string; exit?: { exitCode: number; error?: string }; started: boolean }

async function execIn(client: RpcClient, req: Record<string, unknown>): Promise<Collected> {
  const r: Collected = { out: '', err: '', started: false };
  for await (const chunk of client.stream<RunChunk>(NAMESPACE.exec, req)) {
    if ('stream' in chunk) {
      const text = Buffer.from(chunk.data, 'base64').toString();
      if (chunk.stream === 'stdout') r.out += text;
      else r.err += text;
    } else if ('started' in chunk) r.started = true;
    else if ('exit' in chunk) r.exit = chunk.exit;
  }
  return r;
}

/** the id of the one container of NB whose runtime has written its pid file */
async function runningContainer(nb: NestboxInstance): Promise<string> {
  const dir = join(nb.dataRoot, 'containers');
  const until = Date.now() + scaled(30_000);
  for (;;) {
    const ids = existsSync(dir) ? readdirSync(dir).filter((id) => existsSync(join(dir, id, 'pid'))) : [];
    if (ids.length === 1) return ids[0];
    if (Date.now() > until) throw new Error(`no running container in ${dir}: ${JSON.stringify(ids)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

each('run --init: pid 1 is nestbox-init, the command pid 2, its exit code comes back', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo $$; cat /proc/1/comm; exit 3']);
  t.is(r.stdout, '2\nnestbox-init\n', r.stderr);
  t.is(r.code, 3);
});

each('namespace.exec runs a process in a running container: its namespaces, env, user, exit code', async (t, nb) => {
  const run = nb.cli(['run', '--rm', '--hostname', 'box1', '-e', 'A=1', 'busybox', 'sh', '-c', 'echo up > /tmp/up; exec sleep 30']);
  const id = await runningContainer(nb);
  const client = new RpcClient({ service: 'namespace', endpoint: endpointOf('namespace', { env: { NESTBOX_RUNTIME_DIR: nb.runtimeDir } }) });
  t.teardown(() => client.close());
  try {
    const r = await execIn(client, { containerId: id, args: ['sh', '-c', 'hostname; cat /tmp/up; cat /proc/1/comm; echo "$A $B"; id -u; pwd; exit 4'], env: ['B=2'], cwd: '/tmp', uid: 1000 });
    t.true(r.started);
    t.is(r.out, 'box1\nup\nsleep\n1 2\n1000\n/tmp\n', r.err);
    t.deepEqual(r.exit, { exitCode: 4 });
    const missing = await execIn(client, { containerId: id, args: ['nosuchcmd'] });
    t.is(missing.exit?.exitCode, 127);
    t.regex(missing.exit?.error ?? '', /executable file not found/);
    // the container's seccomp filter applies to what exec starts in it too
    const filtered = await execIn(client, { containerId: id, args: ['sh', '-c', 'grep Seccomp: /proc/self/status; unshare -U true'] });
    t.is(filtered.out, 'Seccomp:\t2\n', filtered.err);
    t.regex(filtered.err, /unshare\(0x10000000\): Operation not permitted/);

    await t.throwsAsync(execIn(client, { containerId: id, args: [] }), { message: /no command given/ });
    await t.throwsAsync(execIn(client, { containerId: 'nope', args: ['true'] }), { message: /containerId must be 64 hex/ });
    await t.throwsAsync(execIn(client, { containerId: id, args: ['true'], cwd: 'rel' }), { message: /working directory must be absolute/ });
    await t.throwsAsync(execIn(client, { containerId: 'f'.repeat(64), args: ['true'] }), { message: /container ffffffffffff is not running/ });
  } finally {
    await client.request(NAMESPACE.signal, { containerId: id, signal: 9 });
    await run;
  }
});
