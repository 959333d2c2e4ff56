/**
 * The ZeroMQ transport through a real Nest microservice (ZmqServer + validation pipe + error
 * filter), called by the plain RpcClient, by ZmqClient registered through ClientsModule, and by a
 * raw zeromq Dealer sending broken frames.
 */
import 'reflect-metadata';
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { Controller, Module, type INestApplicationContext, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { firstValueFrom, lastValueFrom, Observable, toArray } from 'rxjs';
import { Dealer } from 'zeromq';
import { NestboxError } from '../../lib/errors.js';
import { collect, rejection } from '../helpers/transport.js';
import { RpcClient, useTransportDefaults, ZmqClient, ZmqServer } from '../../lib/transport/index.js';

const MAX = 256 * 1024;
const dir = mkdtempSync('/tmp/nbxt-');
const endpointA = `ipc://${dir}/a.sock`;

// ---- the service under test -------------------------------------------------------------------

class MountDto {
  @IsString()
  source: string;
}

class CreateDto {
  @IsString()
  @IsNotEmpty()
  name: string;

  @IsString()
  @IsNotEmpty()
  image: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => MountDto)
  mount?: MountDto;
}

class CountDto {
  @IsInt()
  @Min(0)
  n: number;
}

/** Events the service saw, and a way to wait for the next one. */
const events: unknown[] = [];
let eventSeen: (() => void) | undefined;
const nextEvent = () => new Promise<void>((resolve) => (eventSeen = resolve));

@Controller()
class ProbeController {
  @MessagePattern('echo')
  echo(@Payload() data: unknown) {
    return data;
  }

  @MessagePattern('create')
  create(@Payload() dto: CreateDto) {
    return { isDto: dto instanceof CreateDto, name: dto.name, mountSource: dto.mount?.source };
  }

  @MessagePattern('count')
  count(@Payload() { n }: CountDto): Observable<number> {
    return new Observable((subscriber) => {
      for (let i = 0; i < n; i++) subscriber.next(i);
      subscriber.complete();
    });
  }

  @MessagePattern('count.async')
  async *countAsync(@Payload() { n }: CountDto): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield i;
    }
  }

  @MessagePattern('count.then.fail')
  countThenFail(): Observable<number> {
    return new Observable((subscriber) => {
      subscriber.next(1);
      subscriber.error(new NestboxError('FAILED_PRECONDITION', 'ran out of layers'));
    });
  }

  @MessagePattern('fail.not-found')
  notFound() {
    throw new NestboxError('NOT_FOUND', 'no such container: abc', { id: 'abc' });
  }

  @MessagePattern('fail.bug')
  async bug() {
    throw new TypeError('boom');
  }

  @MessagePattern('hang')
  hang() {
    return new Promise(() => {});
  }

  @MessagePattern('big')
  big(@Payload() data: { size: number }) {
    return 'x'.repeat(data.size);
  }

  @MessagePattern('stream.forever')
  forever(): Observable<string> {
    return new Observable((subscriber) => subscriber.next('first'));
  }

  @EventPattern('notify')
  notify(@Payload() data: unknown) {
    events.push(data);
    eventSeen?.();
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

/** Keeps Nest quiet and lets tests look at what was logged. */
const logged: string[] = [];
const quietLogger: LoggerService = {
  log: () => {},
  warn: (m: unknown) => void logged.push(`warn ${m}`),
  error: (m: unknown) => void logged.push(`error ${m}`),
  debug: () => {},
  verbose: () => {},
};

async function startService(endpoint: string, { defaults = true } = {}): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(ProbeModule, {
    strategy: new ZmqServer({ service: 'probe', endpoints: [endpoint], maxMessageSize: MAX }),
    logger: quietLogger,
  });
  if (defaults) useTransportDefaults(app);
  try {
    await app.listen();
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}

// ---- the callers ------------------------------------------------------------------------------

const PROBE = Symbol('PROBE');

@Module({
  imports: [
    ClientsModule.register([
      { name: PROBE, customClass: ZmqClient, options: { service: 'probe', endpoint: endpointA, maxMessageSize: MAX } },
    ]),
  ],
})
class CallerModule {}

let service: INestMicroservice;
let caller: INestApplicationContext;
let rpc: RpcClient;
let nest: ZmqClient;

test.before(async () => {
  service = await startService(endpointA);
  caller = await NestFactory.createApplicationContext(CallerModule, { logger: quietLogger });
  nest = caller.get<ZmqClient>(PROBE);
  rpc = new RpcClient({ service: 'probe', endpoint: endpointA, maxMessageSize: MAX });
});

test.after.always(async () => {
  rpc?.close();
  await caller?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---- tests ------------------------------------------------------------------------------------

test.serial('latency: p50 of 500 sequential requests (printed, not asserted)', async (t) => {
  for (let i = 0; i < 50; i++) await rpc.request('echo', i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 500; i++) {
    const start = process.hrtime.bigint();
    await rpc.request('echo', { i });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  t.log(`RpcClient -> Nest ZmqServer over ipc: p50 ${times[249].toFixed(3)} ms, p99 ${times[494].toFixed(3)} ms`);
  t.pass();
});

test('request/reply with RpcClient and with ZmqClient', async (t) => {
  t.deepEqual(await rpc.request('echo', { hello: 'world', n: [1, 2] }), { hello: 'world', n: [1, 2] });
  t.is(await firstValueFrom(nest.send('echo', 'via nest')), 'via nest');
  t.deepEqual(await rpc.request('create', { name: 'web', image: 'alpine', mount: { source: '/data' } }), {
    isDto: true,
    name: 'web',
    mountSource: '/data',
  });
});

test('events run their handler (RpcClient.emit and ZmqClient.emit)', async (t) => {
  let seen = nextEvent();
  await rpc.emit('notify', { from: 'rpc' });
  await seen;
  seen = nextEvent();
  await lastValueFrom(nest.emit('notify', { from: 'nest' }), { defaultValue: undefined });
  await seen;
  t.deepEqual(events.slice(-2), [{ from: 'rpc' }, { from: 'nest' }]);
});

test('streamed replies: Observable and async generator handlers', async (t) => {
  t.deepEqual(await collect(rpc.stream('count', { n: 5 })), [0, 1, 2, 3, 4]);
  t.deepEqual(await collect(rpc.stream('count', { n: 0 })), []);
  t.deepEqual(await collect(rpc.stream('count.async', { n: 3 })), [0, 1, 2]);
  t.deepEqual(await lastValueFrom(nest.send('count', { n: 4 }).pipe(toArray())), [0, 1, 2, 3]);
  t.deepEqual(await lastValueFrom(nest.send('count.async', { n: 2 }).pipe(toArray())), [0, 1]);
});

test('a stream that fails midway yields its chunks, then throws the error', async (t) => {
  const chunks: unknown[] = [];
  const err = await rejection(
    (async () => {
      for await (const chunk of rpc.stream('count.then.fail', {})) chunks.push(chunk);
    })(),
  );
  t.deepEqual(chunks, [1]);
  t.is(err.code, 'FAILED_PRECONDITION');
  t.is(err.message, 'ran out of layers');
});

test('invalid DTO -> INVALID_ARGUMENT listing the properties; the service keeps serving', async (t) => {
  const err = await rejection(rpc.request('create', { name: 5, image: '' }));
  t.is(err.code, 'INVALID_ARGUMENT');
  t.regex(err.message, /^invalid request: /);
  t.regex(err.message, /name must be a string/);
  t.regex(err.message, /image should not be empty/);
  const details = err.details as Array<{ property: string; constraints: Record<string, string> }>;
  t.deepEqual(details.map((d) => d.property).sort(), ['image', 'name']);
  t.truthy(details.find((d) => d.property === 'name')!.constraints.isString);

  const extra = await rejection(rpc.request('create', { name: 'a', image: 'b', privileged: true }));
  t.is(extra.code, 'INVALID_ARGUMENT');
  t.regex(extra.message, /property privileged should not exist/);

  const nested = await rejection(rpc.request('create', { name: 'a', image: 'b', mount: { source: 7 } }));
  t.deepEqual(
    (nested.details as Array<{ property: string }>).map((d) => d.property),
    ['mount.source'],
  );
  t.regex(nested.message, /mount\.source must be a string/);

  const viaNest = await rejection(firstValueFrom(nest.send('create', {})));
  t.is(viaNest.code, 'INVALID_ARGUMENT');
  t.deepEqual(await rpc.request('echo', 'still here'), 'still here');
});

test('unknown pattern -> UNIMPLEMENTED naming the pattern and the service', async (t) => {
  const err = await rejection(rpc.request('container.teleport', {}));
  t.is(err.code, 'UNIMPLEMENTED');
  t.is(err.message, 'no handler for pattern "container.teleport" in service probe');
  const viaNest = await rejection(firstValueFrom(nest.send('container.teleport', {})));
  t.is(viaNest.code, 'UNIMPLEMENTED');
  // An event pattern is not a request pattern.
  t.is((await rejection(rpc.request('notify', {}))).code, 'UNIMPLEMENTED');
});

test('a NestboxError thrown by a handler arrives with its code, message and details', async (t) => {
  const err = await rejection(rpc.request('fail.not-found', {}));
  t.is(err.code, 'NOT_FOUND');
  t.is(err.message, 'no such container: abc');
  t.deepEqual(err.details, { id: 'abc' });
  const viaNest = await rejection(firstValueFrom(nest.send('fail.not-found', {})));
  t.true(viaNest instanceof NestboxError);
  t.is(viaNest.code, 'NOT_FOUND');
  t.deepEqual(viaNest.details, { id: 'abc' });
});

test('any other error a handler throws arrives as INTERNAL with its message (and is logged)', async (t) => {
  const err = await rejection(rpc.request('fail.bug', {}));
  t.is(err.code, 'INTERNAL');
  t.is(err.message, 'boom');
  t.true(logged.some((line) => line.startsWith('error') && line.includes('TypeError: boom')));
});

test('a handler that never answers -> UNAVAILABLE after the timeout', async (t) => {
  const start = Date.now();
  const err = await rejection(rpc.request('hang', {}, { timeoutMs: 300 }));
  const elapsed = Date.now() - start;
  t.is(err.code, 'UNAVAILABLE');
  t.is(err.message, `service "probe" is not answering on ${endpointA} (no reply in 300 ms)`);
  t.true(elapsed >= 290 && elapsed < 1500, `took ${elapsed} ms`);
});

test('malformed frames from a raw Dealer: dropped or INVALID_ARGUMENT; the service keeps serving', async (t) => {
  const raw = new Dealer({ linger: 0, receiveTimeout: 3000 });
  raw.connect(endpointA);
  try {
    const receive = async () => JSON.parse((await raw.receive())[0].toString());
    await raw.send('this is not json {');
    await raw.send(JSON.stringify({ id: 'm1', data: 1 })); // no pattern, but an id to answer
    const m1 = await receive(); // first reply: nothing came back for the non-JSON frame
    t.is(m1.id, 'm1');
    t.is(m1.err.code, 'INVALID_ARGUMENT');
    t.true(m1.isDisposed);

    await raw.send([JSON.stringify({ pattern: 'echo', id: 'm2', data: 1 }), 'extra frame']);
    const m2 = await receive();
    t.is(m2.id, 'm2');
    t.is(m2.err.code, 'INVALID_ARGUMENT');
    t.regex(m2.err.message, /one frame, got 2/);

    await raw.send(JSON.stringify({ pattern: 42, data: 1 })); // no id to answer: dropped
    await raw.send(JSON.stringify([1, 2, 3]));
    await raw.send(JSON.stringify({ pattern: 'echo', id: 'm3', data: 'ok' }));
    const m3 = await receive();
    t.deepEqual(m3, { id: 'm3', response: 'ok', isDisposed: true });
    t.true(logged.some((line) => line.includes('dropped a malformed request (request frame is not JSON)')));
  } finally {
    raw.close();
  }
  t.is(await rpc.request('echo', 'after'), 'after');
});

test('size cap: oversize request refused locally, oversize reply -> TOO_LARGE; the service keeps serving', async (t) => {
  const big = 'y'.repeat(MAX + 1);
  const local = await rejection(rpc.request('echo', big));
  t.is(local.code, 'TOO_LARGE');
  t.regex(local.message, /^request "echo" is \d+ bytes, over the 256 KiB limit of service "probe"$/);
  t.is((await rejection(firstValueFrom(nest.send('echo', big)))).code, 'TOO_LARGE');

  const reply = await rejection(rpc.request('big', { size: MAX + 1 }));
  t.is(reply.code, 'TOO_LARGE');
  t.regex(reply.message, /^reply to "big" is \d+ bytes, over the 256 KiB limit of service probe$/);
  t.is((await rpc.request<string>('big', { size: 1000 })).length, 1000);

  // A peer that ignores the cap is cut off by libzmq; others are unaffected.
  const raw = new Dealer({ linger: 0 });
  raw.connect(endpointA);
  await raw.send(JSON.stringify({ pattern: 'echo', id: 'x', data: big }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  raw.close();
  t.is(await rpc.request('echo', 'fine'), 'fine');
});

test('2000 concurrent requests are all answered correctly', async (t) => {
  const replies = await Promise.all(Array.from({ length: 2000 }, (_, i) => rpc.request<{ i: number }>('echo', { i })));
  t.true(replies.every((reply, i) => reply.i === i));
  const viaNest = await Promise.all(Array.from({ length: 500 }, (_, i) => firstValueFrom(nest.send('echo', i))));
  t.true(viaNest.every((reply, i) => reply === i));
});

test('a second service on the same ipc endpoint fails with ALREADY_EXISTS; the first keeps serving', async (t) => {
  const err = await rejection(startService(endpointA));
  t.is(err.code, 'ALREADY_EXISTS');
  t.is(err.message, `endpoint ${endpointA} is already served by pid ${process.pid}`);
  t.is(await rpc.request('echo', 'first'), 'first');
});

test('plain tcp endpoints are refused', (t) => {
  const err = t.throws(() => new ZmqServer({ service: 'probe', endpoints: ['tcp://127.0.0.1:5999'] }));
  t.is((err as NestboxError).code, 'FAILED_PRECONDITION');
  t.regex(err!.message, /CURVE/);
});

test('a stream whose service is closed midway fails with UNAVAILABLE instead of hanging', async (t) => {
  const endpointB = `ipc://${dir}/b.sock`;
  const other = await startService(endpointB);
  const client = new RpcClient({ service: 'probe', endpoint: endpointB });
  try {
    const stream = client.stream<string>('stream.forever', {});
    const first = await stream.next();
    t.is(first.value, 'first');
    const start = Date.now();
    const pending = stream.next();
    await other.close();
    const err = await rejection(pending);
    t.is(err.code, 'UNAVAILABLE');
    t.regex(err.message, /^service "probe" went away/);
    t.true(Date.now() - start < 3000);
  } finally {
    client.close();
    await other.close();
  }
});

test('leaving a stream early forgets the call (ZmqClient cleanup, RpcClient break)', async (t) => {
  const pendingOf = (owner: object) => (owner as { connection: { pendingCount: number } }).connection.pendingCount;
  const client = new ZmqClient({ service: 'probe', endpoint: endpointA });
  const plain = new RpcClient({ service: 'probe', endpoint: endpointA });
  try {
    t.is(await firstValueFrom(client.send('stream.forever', {})), 'first');
    t.is(pendingOf(client), 0);
    for await (const chunk of plain.stream('stream.forever', {})) {
      t.is(chunk, 'first');
      t.is(pendingOf(plain), 1);
      break;
    }
    t.is(pendingOf(plain), 0);
  } finally {
    client.close();
    plain.close();
  }
});

test('without RpcErrorFilter, codes are lost to Nest\'s "Internal server error" and the service says how to fix it', async (t) => {
  const endpointC = `ipc://${dir}/c.sock`;
  const bare = await startService(endpointC, { defaults: false });
  const client = new RpcClient({ service: 'probe', endpoint: endpointC });
  try {
    const err = await rejection(client.request('fail.not-found', {}));
    t.is(err.code, 'INTERNAL');
    t.is(err.message, 'Internal server error');
    t.true(logged.some((line) => line.startsWith('warn') && line.includes('install RpcErrorFilter')));
  } finally {
    client.close();
    await bare.close();
  }
});
