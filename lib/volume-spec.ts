/**
 * docker's `-v`: `NAME:/dest[:ro|rw]` (a named volume, made on first use) or `/host/path:/dest[:ro|rw]`
 * (a bind mount). Parsed once, here, for the CLI's one-line errors; the services check the
 * parsed form again (lifecycle.dto.ts).
 */
import { posix } from 'node:path';
import { NestboxError } from './errors.js';

export interface VolumeSpec {
  kind: 'bind' | 'volume';
  /** the host path (bind) or the volume's name */
  source: string;
  destination: string;
  readonly: boolean;
}

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function parseVolumeFlag(spec: string): VolumeSpec {
  const bad = (why: string) => new NestboxError('INVALID_ARGUMENT', `invalid volume specification "${spec}": ${why}`);
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw bad('expected SOURCE:DESTINATION[:ro|rw]');
  const [source, dest, mode = 'rw'] = parts;
  if (mode !== 'ro' && mode !== 'rw') throw bad(`mode "${mode}" is not ro or rw`);
  let kind: VolumeSpec['kind'];
  if (source.startsWith('/')) kind = 'bind';
  else if (VOLUME_NAME.test(source)) kind = 'volume';
  else throw bad('the source must be an absolute host path or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)');
  if (!dest.startsWith('/')) throw bad(`the destination "${dest}" must be an absolute path`);
  const destination = posix.normalize(dest).replace(/(.)\/$/, '$1');
  if (destination === '/') throw bad('the destination cannot be /');
  return { kind, source: kind === 'bind' ? posix.normalize(source).replace(/(.)\/$/, '$1') : source, destination, readonly: mode === 'ro' };
}

/** Two volumes on one destination are refused, as docker does ("Duplicate mount point"). */
export function checkDistinctDestinations(specs: VolumeSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.destination)) throw new NestboxError('INVALID_ARGUMENT', `duplicate mount point: ${s.destination}`);
    seen.add(s.destination);
  }
}
