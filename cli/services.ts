/**
 * Reaching the services from the CLI: a plain ZeroMQ client (no NestJS at start-up), and the
 * supervisor started for the calling user when nothing answers (DESIGN.md "Processes").
 */
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIFECYCLE, SYSTEM } from '../lib/contracts/patterns.js';
import { NestboxError } from '../lib/errors.js';
import { isZombie } from '../lib/proc-stat.js';
import { endpointOf, ensurePrivateDir, runtimeDir, type EndpointName } from '../lib/paths.js';
import { RpcClient } from '../lib/transport/rpc-client.js';

/** How long the CLI waits for a cold nestboxd; NESTBOX_START_TIMEOUT_MS raises it on slow machines. */
export function startTimeoutMs(): number {
  const raw = process.env.NESTBOX_START_TIMEOUT_MS;
  if (raw === undefined || raw === '') return 30_000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1_000 || n > 3_600_000) {
    throw new NestboxError('INVALID_ARGUMENT', `NESTBOX_START_TIMEOUT_MS must be whole milliseconds from 1000 to 3600000, got '${raw}'`);
  }
  return n;
}

export function clientFor(service: EndpointName, timeoutMs = 30_000): RpcClient {
  return new RpcClient({ service, endpoint: endpointOf(service), timeoutMs });
}

/** Is a live process holding the endpoint's lock? (cheaper than a ping timing out) */
function endpointHeld(service: EndpointName): boolean {
  const lock = join(runtimeDir(), `${service}.sock.lock`);
  if (!existsSync(lock)) return false;
  const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return !isZombie(pid); // a killed service not yet reaped holds nothing
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function answers(service: EndpointName, timeoutMs: number): Promise<boolean> {
  const client = clientFor(service, timeoutMs);
  try {
    await client.request(SYSTEM.ping, {});
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/**
 * `exec` moves a process into the container's cgroups, and on cgroup v1 the kernel's first move
 * after a pause waits for an RCU grace period (10-15 ms here): asked as the CLI starts, before the
 * verb's code is loaded, the services start it early enough to hide most of it
 * (services/cgroup/migration-warmer.ts). Fire and forget on a connection of its own; the CLI's exit
 * ends it. Nothing when no service runs: the verb starts them.
 */
export function warmCgroupMove(): void {
  if (!endpointHeld('lifecycle')) return;
  const client = clientFor('lifecycle', 2_000);
  client.request(LIFECYCLE.warm, {}).catch(() => undefined).finally(() => client.close());
}

/**
 * Makes sure the lifecycle service is there, starting nestboxd if nobody serves this user. A live
 * holder of its endpoint lock is enough: the verb's own request is the first contact (it waits
 * for the socket if the service is still binding), which saves a round trip on every command.
 */
export async function ensureServices(): Promise<void> {
  if (endpointHeld('lifecycle')) return;
  if (!endpointHeld('supervisor')) startSupervisor();
  const timeoutMs = startTimeoutMs();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (endpointHeld('lifecycle') && (await answers('lifecycle', 1_000))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new NestboxError('UNAVAILABLE', `the nestbox services did not start within ${timeoutMs / 1000} s (see ${join(runtimeDir(), 'nestboxd.log')})`);
}

function startSupervisor(): void {
  // 3 ms to load, so only when starting; not import(): the bundled CLI runs in a vm.Script (scripts/cli-loader.cjs)
  const { spawn } = process.getBuiltinModule('node:child_process');
  const dir = ensurePrivateDir(runtimeDir());
  const entry = join(import.meta.dirname, '..', 'services', 'supervisor', 'main.js');
  const args = process.env.NESTBOX_MODE === 'embedded' ? [entry, '--embedded'] : [entry];
  const log = openSync(join(dir, 'nestboxd.log'), 'a', 0o600);
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], cwd: '/' });
    child.unref();
  } finally {
    closeSync(log);
  }
}
