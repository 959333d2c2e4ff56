/**
 * Which endpoint addresses a service may bind. ipc:// (the file system is the access control)
 * and inproc:// (embedded mode) only: DESIGN.md allows tcp:// solely with CURVE and a ZAP
 * allow-list, which this transport does not have yet, so plain tcp is refused with a reason.
 */
import { NestboxError } from '../errors.js';

/** sockaddr_un.sun_path is 108 bytes including the NUL. */
const MAX_IPC_PATH = 107;

export type BindAddress = { kind: 'ipc'; address: string; path: string } | { kind: 'inproc'; address: string };

export function parseBindAddress(address: string): BindAddress {
  if (address.startsWith('ipc://')) {
    const path = address.slice('ipc://'.length);
    if (!path.startsWith('/')) {
      throw new NestboxError('INVALID_ARGUMENT', `ipc endpoint must be an absolute path: ${address}`);
    }
    if (Buffer.byteLength(path) > MAX_IPC_PATH) {
      throw new NestboxError(
        'INVALID_ARGUMENT',
        `ipc socket path too long (${Buffer.byteLength(path)} > ${MAX_IPC_PATH} bytes): ${path}`,
      );
    }
    return { kind: 'ipc', address, path };
  }
  if (address.startsWith('inproc://') && address.length > 'inproc://'.length) {
    return { kind: 'inproc', address };
  }
  if (address.startsWith('tcp://')) {
    throw new NestboxError(
      'FAILED_PRECONDITION',
      `refusing to serve ${address}: tcp endpoints need CURVE encryption and a client key allow-list, ` +
        'which this transport does not support yet; use ipc:// or inproc://',
    );
  }
  throw new NestboxError('INVALID_ARGUMENT', `unsupported endpoint ${JSON.stringify(address)}: use ipc:///path or inproc://name`);
}

/** A caller may only connect where a service may bind (same rules, same messages). */
export const parseConnectAddress = parseBindAddress;
