/**
 * The wire format and the error/validation mappings, without sockets.
 */
import 'reflect-metadata';
import test from 'ava';
import { RpcException } from '@nestjs/microservices';
import type { ValidationError } from 'class-validator';
import { NestboxError } from '../../lib/errors.js';
import { rpcErrorToWire } from '../../lib/transport/rpc-error.filter.js';
import { flattenValidationErrors, validationErrorToWire } from '../../lib/transport/validation.js';
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  errorToWire,
  formatSize,
  recoverRequestId,
} from '../../lib/transport/wire.js';

const frame = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

test('requests round-trip; events have no id', (t) => {
  const request = { pattern: 'container.run', id: '1a', data: { image: 'alpine' } };
  t.deepEqual(decodeRequest(encodeRequest(request)), { ok: true, packet: request });
  const event = decodeRequest(encodeRequest({ pattern: 'container.exited', data: 3 }));
  t.deepEqual(event, { ok: true, packet: { pattern: 'container.exited', id: undefined, data: 3 } });
});

test('broken requests are rejected with a reason and, where possible, the id', (t) => {
  t.deepEqual(decodeRequest(frame('{nope')), { ok: false, reason: 'request frame is not JSON' });
  t.deepEqual(decodeRequest(frame([1])), { ok: false, reason: 'request frame is not a JSON object' });
  t.deepEqual(decodeRequest(frame('null')), { ok: false, reason: 'request frame is not a JSON object' });
  t.deepEqual(decodeRequest(frame({ id: 'x', data: 1 })), { ok: false, reason: 'request has no string "pattern"', id: 'x' });
  t.deepEqual(decodeRequest(frame({ id: 'x', pattern: '' })), { ok: false, reason: 'request has no string "pattern"', id: 'x' });
  const badId = decodeRequest(frame({ id: 7, pattern: 'p' }));
  t.false(badId.ok);
  t.is((badId as { id?: string }).id, undefined);
  t.false(decodeRequest(frame({ id: 'x'.repeat(200), pattern: 'p' })).ok);
  t.is(recoverRequestId(frame({ id: 'r1' })), 'r1');
  t.is(recoverRequestId(frame('garbage')), undefined);
});

test('replies round-trip and are checked', (t) => {
  const reply = { id: '9', response: [1, 2], isDisposed: true };
  t.deepEqual(decodeReply(encodeReply(reply)), { ok: true, packet: { ...reply, err: undefined } });
  const err = { id: '9', err: { code: 'NOT_FOUND', message: 'gone', details: { a: 1 } }, isDisposed: true };
  t.deepEqual(decodeReply(encodeReply(err)), { ok: true, packet: { ...err, response: undefined } });
  t.false(decodeReply(frame({ response: 1 })).ok);
  t.deepEqual(decodeReply(frame({ id: '1', err: 'text' })), { ok: false, reason: 'reply "err" is not {code, message}', id: '1' });
  t.false(decodeReply(frame({ id: '1', isDisposed: 'yes' })).ok);
});

test('errorToWire / rpcErrorToWire keep domain codes and hide nothing else', (t) => {
  t.deepEqual(errorToWire(new NestboxError('NOT_FOUND', 'no such container', { id: 'c1' })), {
    code: 'NOT_FOUND',
    message: 'no such container',
    details: { id: 'c1' },
  });
  t.deepEqual(errorToWire(new TypeError('boom')), { code: 'INTERNAL', message: 'boom' });
  // A Node system error's code is not a wire code.
  t.deepEqual(errorToWire(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })), {
    code: 'INTERNAL',
    message: 'ENOENT: no such file',
  });
  t.deepEqual(errorToWire({ status: 'error', message: 'Internal server error' }), { code: 'INTERNAL', message: 'Internal server error' });
  t.deepEqual(errorToWire('plain text'), { code: 'INTERNAL', message: 'plain text' });
  t.deepEqual(errorToWire(undefined), { code: 'INTERNAL', message: 'unknown error' });
  t.deepEqual(rpcErrorToWire(new RpcException({ code: 'INVALID_ARGUMENT', message: 'bad', details: [] })), {
    code: 'INVALID_ARGUMENT',
    message: 'bad',
    details: [],
  });
  t.deepEqual(rpcErrorToWire(new RpcException('Forbidden resource')), { code: 'INTERNAL', message: 'Forbidden resource' });
});

test('validation errors flatten to dotted paths and one readable line', (t) => {
  const errors = [
    { property: 'name', constraints: { isString: 'name must be a string' }, children: [] },
    {
      property: 'mounts',
      children: [{ property: '0', children: [{ property: 'source', constraints: { isString: 'source must be a string' } }] }],
    },
  ] as unknown as ValidationError[];
  t.deepEqual(flattenValidationErrors(errors), [
    { property: 'name', constraints: { isString: 'name must be a string' } },
    { property: 'mounts.0.source', constraints: { isString: 'mounts.0.source must be a string' } },
  ]);
  t.is(validationErrorToWire(errors).message, 'invalid request: name must be a string; mounts.0.source must be a string');
  t.is(validationErrorToWire(errors).code, 'INVALID_ARGUMENT');
});

test('formatSize', (t) => {
  t.is(formatSize(8 * 1024 * 1024), '8 MiB');
  t.is(formatSize(256 * 1024), '256 KiB');
  t.is(formatSize(1000), '1000 bytes');
});
