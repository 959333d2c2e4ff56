/**
 * What every nestbox service process shares: starting a Nest microservice on the ZeroMQ
 * transport at its endpoint(s), clients for the services it calls, and the ping handler.
 * In embedded mode (all five in one process) services reach each other over inproc://.
 */
import 'reflect-metadata';
import { Controller, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, MessagePattern, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { SYSTEM } from './contracts/patterns.js';
import { endpointOf, ensurePrivateDir, runtimeDir, type ServiceName } from './paths.js';
import { ZmqClient, ZmqServer, useTransportDefaults } from './transport/index.js';

export const isEmbedded = (): boolean => process.env.NESTBOX_EMBEDDED === '1';

export const clientToken = (name: ServiceName): string => `nestbox.client.${name}`;

/** Inter-service calls wait long enough for a first image build; streams only for their first reply. */
const CALL_TIMEOUT_MS = 60_000;

export function clientsFor(...names: ServiceName[]): DynamicModule {
  return ClientsModule.register(
    names.map((name) => ({
      name: clientToken(name),
      customClass: ZmqClient,
      options: { service: name, endpoint: endpointOf(name, { inproc: isEmbedded() }), timeoutMs: CALL_TIMEOUT_MS },
    })),
  );
}

/** One request, one reply. */
export function call<T>(client: ClientProxy, pattern: string, data: unknown): Promise<T> {
  return lastValueFrom(client.send<T>(pattern, data));
}

/** A controller answering `system.ping` for the named service. */
export function healthController(service: ServiceName): Type {
  const started = Date.now();
  @Controller()
  class HealthController {
    @MessagePattern(SYSTEM.ping)
    ping() {
      return { service, pid: process.pid, uptimeMs: Date.now() - started, embedded: isEmbedded() };
    }
  }
  return HealthController;
}

/** Services create files with the conventional umask, whatever the caller's shell had. */
export const SERVICE_UMASK = 0o022;

export async function startService(service: ServiceName, module: Type): Promise<INestMicroservice> {
  process.umask(SERVICE_UMASK);
  ensurePrivateDir(runtimeDir());
  const endpoints = [endpointOf(service)];
  if (isEmbedded()) endpoints.push(endpointOf(service, { inproc: true }));
  const app = await NestFactory.createMicroservice(module, {
    strategy: new ZmqServer({ service, endpoints }),
    logger: ['error', 'warn'],
  });
  useTransportDefaults(app); // validation pipe + errors as {code, message, details}
  await app.listen();
  return app;
}

/** Entry point of a service's own process: start, and close cleanly on SIGTERM/SIGINT. */
export function runServiceMain(service: ServiceName, module: Type): void {
  startService(service, module).then(
    (app) => {
      const stop = () => {
        app.close().finally(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      // started by nestboxd with an IPC channel: a service never outlives its supervisor
      if (process.send) process.once('disconnect', stop);
    },
    (err: Error) => {
      process.stderr.write(`nestbox ${service}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
