#!/usr/bin/env node
/**
 * nestboxd: starts the five services (each its own process, or all in one with --embedded),
 * restarts a crashed one, and answers system.ping / system.info / system.stop on its own endpoint.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM } from '../../lib/contracts/patterns.js';
import { SERVICE_NAMES, endpointOf, ensurePrivateDir, runtimeDir } from '../../lib/paths.js';
import { RpcServer } from '../../lib/transport/rpc-server.js';
import { ServiceProcess } from './service-process.js';

const embedded = process.argv.includes('--embedded');
const dir = ensurePrivateDir(runtimeDir());
const log = (line: string) => {
  try {
    appendFileSync(join(dir, 'nestboxd.log'), `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
  } catch { /* logging must never take the supervisor down */ }
};

async function main(): Promise<void> {
  const startedAt = Date.now();
  const services = embedded
    ? []
    : SERVICE_NAMES.map((name) => new ServiceProcess(name, join(import.meta.dirname, '..', name, 'main.js'), join(dir, `${name}.log`), log));
  let closeEmbedded: (() => Promise<void>) | undefined;
  let stopping = false;

  const server = new RpcServer({
    service: 'supervisor',
    endpoints: [endpointOf('supervisor')],
    handlers: {
      [SYSTEM.ping]: async () => ({ service: 'supervisor', pid: process.pid }),
      [SYSTEM.info]: async () => ({
        pid: process.pid,
        mode: embedded ? 'embedded' : 'split',
        uptimeMs: Date.now() - startedAt,
        runtimeDir: dir,
        services: embedded ? SERVICE_NAMES.map((name) => ({ name, pid: process.pid, state: 'running', restarts: 0 })) : services.map((s) => s.status()),
      }),
      [SYSTEM.stop]: async () => {
        setImmediate(() => void shutdown());
        return { stopping: true, pid: process.pid };
      },
    },
  });
  // the lock on the supervisor endpoint makes a second nestboxd for the same user exit here
  await server.listen();

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    await Promise.all(services.map((s) => s.stop()));
    await closeEmbedded?.();
    await server.close();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());

  if (embedded) {
    const { startEmbedded } = await import('./embedded.js');
    const apps = await startEmbedded();
    closeEmbedded = async () => {
      for (const app of apps.reverse()) await app.close();
    };
  } else {
    for (const s of services) s.start();
  }
  log(`started (${embedded ? 'embedded' : 'split'}, pid ${process.pid})`);
}

main().catch((err: Error) => {
  log(`failed: ${err.message}`);
  process.stderr.write(`nestboxd: ${err.message}\n`);
  process.exit(1);
});
