/**
 * The Nest-free pieces: RpcServer (supervisor) with RpcClient (CLI), timeouts, late services,
 * a service dying mid-stream, and the ipc endpoint lock.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import { collect, rejection } from '../helpers/transport.js';
import { EndpointLock } from '../../lib/transport/endpoint-lock.js';
import { RpcClient, type RpcClientOptions } from '../../lib/transport/rpc-client.js';
import { DealerConnection } from '../../lib/transport/dealer-connection.js';
import { RpcServer, type RpcHandler } from '../../lib/transport/rpc-server.js';
import { Dealer } from 'zeromq';

const dir = mkdtempSync('/tmp/nbxt-');
let counter = 0;
/** A fresh socket path per test: tests in a file run concurrently. */
const freshEndpoint = () => `ipc://${dir}/s${++counter}.sock`;

const quiet = { warn: () => {}, error: () => {} };

const handlers: Record<string, RpcHandler> = {
  echo: async (data) => data,
  sum: (data) => (data as number[]).reduce((a, b) => a + b, 0),
  lines: async function* (data) {
    for (let i = 0; i < (data as { n: number }).n; i++) yield `line ${i}`;
  },
  missing: async () => {
    throw new NestboxError('NOT_FOUND', 'no such image: nope', { ref: 'nope' });
  },
  bug: () => {
    throw new RangeError('off by one');
  },
  'half-stream': async function* () {
    yield 'partial';
    throw new NestboxError('FAILED_PRECONDITION', 'disk full');
  },
};

/** Closed after each test that opened them (ava must be able to exit). */
const cleanups: Array<() => unknown> = [];
function track<T extends { close(): unknown }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

async function serve(endpoint: string, extra: Record<string, RpcHandler> = {}): Promise<RpcServer> {
  const server = track(new RpcServer({ service: 'supervisor', endpoints: [endpoint], handlers: { ...handlers, ...extra }, logger: quiet }));
  await server.listen();
  return server;
}

test.after.always(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI's way (plain node:net, the default) and the services' way (zeromq) to one service: same contract. */
const KINDS = ['node:net', 'zeromq'] as const;
type Kind = (typeof KINDS)[number];
const clientOf = (kind: Kind, options: RpcClientOptions) => new RpcClient(options, kind === 'zeromq' ? new DealerConnection(options) : undefined);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const kind of KINDS) test(`RpcServer: values, streams, errors, unknown patterns, events (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  let notified: unknown;
  await serve(endpoint, { notify: (data) => void (notified = data) });
  const client = track(clientOf(kind, { service: 'supervisor', endpoint }));

  t.deepEqual(await client.request('echo', { a: 1 }), { a: 1 });
  t.is(await client.request('sum', [1, 2, 3]), 6);
  t.deepEqual(await collect(client.stream('lines', { n: 3 })), ['line 0', 'line 1', 'line 2']);

  const missing = await rejection(client.request('missing', {}));
  t.is(missing.code, 'NOT_FOUND');
  t.deepEqual(missing.details, { ref: 'nope' });
  const bug = await rejection(client.request('bug', {}));
  t.is(bug.code, 'INTERNAL');
  t.is(bug.message, 'off by one');
  const unknown = await rejection(client.request('reboot', {}));
  t.is(unknown.code, 'UNIMPLEMENTED');
  t.is(unknown.message, 'no handler for pattern "reboot" in service supervisor');

  const chunks: unknown[] = [];
  const failed = await rejection(
    (async () => {
      for await (const chunk of client.stream('half-stream', {})) chunks.push(chunk);
    })(),
  );
  t.deepEqual(chunks, ['partial']);
  t.is(failed.code, 'FAILED_PRECONDITION');

  await client.emit('notify', { event: 1 });
  for (let i = 0; i < 100 && notified === undefined; i++) await delay(10);
  t.deepEqual(notified, { event: 1 });
});

for (const kind of KINDS) test(`large requests and replies pass (long frames), an oversize request is refused here (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  await serve(endpoint);
  const client = track(clientOf(kind, { service: 'supervisor', endpoint, maxMessageSize: 4 * 1024 * 1024 }));
  const big = 'b'.repeat(3 * 1024 * 1024);
  t.is(await client.request('echo', big), big);
  t.deepEqual(await collect(client.stream('lines', { n: 300 })), Array.from({ length: 300 }, (_, i) => `line ${i}`));
  const err = await rejection(client.request('echo', 'c'.repeat(5 * 1024 * 1024)));
  t.is(err.code, 'TOO_LARGE');
  t.regex(err.message, /over the 4 MiB limit of service "supervisor"/);
});

for (const kind of KINDS) test(`nobody serves the endpoint -> UNAVAILABLE naming the service, within the timeout (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  const client = track(clientOf(kind, { service: 'lifecycle', endpoint, timeoutMs: 300 }));
  const start = Date.now();
  const err = await rejection(client.request('echo', 1));
  const elapsed = Date.now() - start;
  t.is(err.code, 'UNAVAILABLE');
  t.is(err.message, `service "lifecycle" is not answering on ${endpoint} (no reply in 300 ms)`);
  t.true(elapsed >= 290 && elapsed < 1500, `took ${elapsed} ms`);

  const stream = await rejection(collect(client.stream('lines', { n: 1 }, { firstReplyTimeoutMs: 200 })));
  t.is(stream.code, 'UNAVAILABLE');
  t.regex(stream.message, /no reply in 200 ms/);

  const event = await rejection(client.emit('notify', {}, { timeoutMs: 200 }));
  t.is(event.code, 'UNAVAILABLE');
});

for (const kind of KINDS) test(`a request that timed out is not delivered to a service that starts later (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  const client = track(clientOf(kind, { service: 'lifecycle', endpoint, timeoutMs: 200 }));
  t.is((await rejection(client.request('count', 'stale'))).code, 'UNAVAILABLE');

  const received: unknown[] = [];
  await serve(endpoint, { count: (data) => received.push(data) });
  t.is(await client.request('count', 'fresh', { timeoutMs: 3000 }), 1);
  await delay(200);
  t.deepEqual(received, ['fresh']);
});

for (const kind of KINDS) test(`requests issued before the service is up are answered once it is (within their timeout) (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  const client = track(clientOf(kind, { service: 'lifecycle', endpoint, timeoutMs: 3000 }));
  const early = client.request('echo', 'early');
  await delay(100);
  await serve(endpoint);
  t.is(await early, 'early');
});

for (const kind of KINDS) test(`a stream whose service closes midway fails with UNAVAILABLE "went away" (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  const server = await serve(endpoint, {
    follow: async function* () {
      yield 'first';
      await new Promise(() => {}); // like `logs -f` with nothing new
    },
  });
  const client = track(clientOf(kind, { service: 'supervisor', endpoint }));
  const stream = client.stream('follow', {});
  t.is((await stream.next()).value, 'first');
  const pending = stream.next();
  await server.close();
  const err = await rejection(pending);
  t.is(err.code, 'UNAVAILABLE');
  t.is(err.message, `service "supervisor" went away (disconnected from ${endpoint})`);
});

for (const kind of KINDS) test(`requests in flight when the client closes fail with UNAVAILABLE (${kind})`, async (t) => {
  const endpoint = freshEndpoint();
  await serve(endpoint, { hang: () => new Promise(() => {}) });
  const client = clientOf(kind, { service: 'supervisor', endpoint });
  const pending = client.request('hang', {});
  await delay(50);
  client.close();
  t.is((await rejection(pending)).code, 'UNAVAILABLE');
  t.is((await rejection(client.request('echo', 1))).code, 'UNAVAILABLE');
});

test('a second RpcServer on the same endpoint fails; closing frees the endpoint and its files', async (t) => {
  const endpoint = freshEndpoint();
  const path = endpoint.slice('ipc://'.length);
  const first = await serve(endpoint);
  t.true(existsSync(`${path}.lock`));
  const second = new RpcServer({ service: 'supervisor', endpoints: [endpoint], handlers, logger: quiet });
  const err = await rejection(second.listen());
  t.is(err.code, 'ALREADY_EXISTS');
  t.deepEqual(err.details, { endpoint, pid: process.pid });

  await first.close();
  t.false(existsSync(path), 'socket file removed');
  t.false(existsSync(`${path}.lock`), 'lock removed');
  await second.listen();
  const client = track(new RpcClient({ service: 'supervisor', endpoint }));
  t.is(await client.request('echo', 'second'), 'second');
  await second.close();
});

test('a stale lock (dead pid) and socket file are taken over', async (t) => {
  const endpoint = freshEndpoint();
  const path = endpoint.slice('ipc://'.length);
  const dead = spawnSync('true').pid!;
  writeFileSync(`${path}.lock`, `${dead} 12345\n`);
  writeFileSync(path, 'not a socket'); // refused: a regular file is not ours to delete
  const refused = new RpcServer({ service: 'supervisor', endpoints: [endpoint], handlers, logger: quiet });
  t.is((await rejection(refused.listen())).code, 'FAILED_PRECONDITION');
  rmSync(path);

  writeFileSync(`${path}.lock`, `${dead} 12345\n`);
  await serve(endpoint);
  t.is(readFileSync(`${path}.lock`, 'utf8').split(' ')[0], String(process.pid));
  const client = track(new RpcClient({ service: 'supervisor', endpoint }));
  t.is(await client.request('echo', 'took over'), 'took over');
});

test('EndpointLock: exclusive while held, recycled pid detected, release only removes our own lock', (t) => {
  const path = `${dir}/lock-unit.sock`;
  const a = new EndpointLock(path);
  a.acquire();
  const b = new EndpointLock(path);
  t.is(t.throws(() => b.acquire())!.message, `endpoint ipc://${path} is already served by pid ${process.pid}`);
  a.release();
  b.acquire();
  t.true(b.isHeld);
  b.release();

  // Our own pid but another start time: the pid was recycled, the lock is stale.
  writeFileSync(`${path}.lock`, `${process.pid} 1\n`);
  const c = new EndpointLock(path);
  c.acquire();
  t.true(c.isHeld);
  // Someone else's lock now sits there: release() must leave it alone.
  writeFileSync(`${path}.lock`, `1 1\n`);
  c.release();
  t.true(existsSync(`${path}.lock`));
  rmSync(`${path}.lock`);
});

test('endpoints: relative ipc paths, too-long paths, unknown schemes and missing directories are refused', async (t) => {
  const make = (endpoint: string) => () => new RpcServer({ service: 'x', endpoints: [endpoint], handlers });
  t.is((t.throws(make('ipc://relative.sock')) as NestboxError).code, 'INVALID_ARGUMENT');
  t.regex(t.throws(make(`ipc:///tmp/${'a'.repeat(120)}.sock`))!.message, /too long/);
  t.is((t.throws(make('tcp://127.0.0.1:5555')) as NestboxError).code, 'FAILED_PRECONDITION');
  t.is((t.throws(make('ws://127.0.0.1:5555')) as NestboxError).code, 'INVALID_ARGUMENT');
  t.is((t.throws(() => new RpcClient({ service: 'x', endpoint: 'tcp://10.0.0.1:1' })) as NestboxError).code, 'FAILED_PRECONDITION');
  const nowhere = new RpcServer({ service: 'x', endpoints: [`ipc://${dir}/missing/x.sock`], handlers, logger: quiet });
  const err = await rejection(nowhere.listen());
  t.is(err.code, 'FAILED_PRECONDITION');
  t.regex(err.message, /^cannot lock endpoint ipc:\/\/.*missing\/x\.sock: ENOENT/);
});

test('inproc endpoints work, and a second bind in the process is ALREADY_EXISTS', async (t) => {
  const endpoint = `inproc://nbxt-${process.pid}-${++counter}`;
  await serve(endpoint);
  const options = { service: 'supervisor', endpoint };
  t.is((t.throws(() => new RpcClient(options)) as NestboxError).code, 'INVALID_ARGUMENT'); // node:net has no inproc
  const client = track(new RpcClient(options, new DealerConnection(options)));
  t.is(await client.request('echo', 'in process'), 'in process');
  const second = new RpcServer({ service: 'supervisor', endpoints: [endpoint], handlers, logger: quiet });
  t.is((await rejection(second.listen())).code, 'ALREADY_EXISTS');
});

/** A raw caller that sends `count` requests and does not read the replies yet. */
async function floodWithoutReading(endpoint: string, count: number): Promise<Dealer> {
  const raw = new Dealer({ linger: 0, receiveHighWaterMark: 1 });
  raw.connect(endpoint);
  const payload = 'p'.repeat(1024);
  for (let i = 0; i < count; i++) await raw.send(JSON.stringify({ pattern: 'echo', id: `f${i}`, data: payload }));
  return raw;
}

test('a caller that stops reading does not delay the others; its replies wait, in order, until it reads', async (t) => {
  const endpoint = freshEndpoint();
  await serve(endpoint);
  const raw = await floodWithoutReading(endpoint, 4000);
  try {
    await delay(200); // let the service answer into the full pipe
    const client = track(new RpcClient({ service: 'supervisor', endpoint }));
    const start = Date.now();
    t.is(await client.request('echo', 'me first'), 'me first');
    t.true(Date.now() - start < 500, `took ${Date.now() - start} ms`);

    raw.receiveTimeout = 5000;
    for (let i = 0; i < 4000; i++) {
      const reply = JSON.parse((await raw.receive())[0].toString());
      if (reply.id !== `f${i}`) return t.fail(`reply ${i} has id ${reply.id}`);
    }
  } finally {
    raw.close();
  }
});

test('replies to a caller stalled past the limit are dropped with one log line', async (t) => {
  const endpoint = freshEndpoint();
  const warnings: string[] = [];
  const server = track(
    new RpcServer({
      service: 'supervisor',
      endpoints: [endpoint],
      handlers,
      sendTimeoutMs: 300,
      logger: { warn: (m) => warnings.push(m), error: () => {} },
    }),
  );
  await server.listen();
  const raw = await floodWithoutReading(endpoint, 4000);
  try {
    for (let i = 0; i < 100 && warnings.length === 0; i++) await delay(20);
    t.is(warnings.length, 1);
    t.regex(warnings[0], /^service supervisor: a caller stopped reading \(\d+ replies, \d+ bytes waiting for \d+ ms\); dropping its replies$/);
    const client = track(new RpcClient({ service: 'supervisor', endpoint }));
    t.is(await client.request('echo', 'unaffected'), 'unaffected');
  } finally {
    raw.close();
  }
});
