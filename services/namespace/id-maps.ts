/**
 * User-namespace id mapping (DESIGN.md "Rootless"): container 0 is the caller and 1..65535 its
 * /etc/subuid and /etc/subgid range; as root, container ids map into root's own subordinate
 * range, so container root is never host root. Without a range an unprivileged user gets a
 * single-id mapping and a warning.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { NestboxError } from '../../lib/errors.js';
import type { IdMapInfo, IdMapping } from '../../lib/contracts/types.js';

export interface SubordinateRange { start: number; count: number }

/** Parses /etc/subuid-style text; the first range of `user` (by name or numeric id). */
export function findRange(text: string, user: string, uid: number): SubordinateRange | undefined {
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (!who || start === undefined || count === undefined) continue;
    if (who !== user && who !== String(uid)) continue;
    const s = Number(start), c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && s > 0 && c > 0) return { start: s, count: c };
  }
  return undefined;
}

/** Maps container ids 0..65535: root into its range, a user as itself + its range. */
export function computeMappings(id: number, range: SubordinateRange | undefined, isRoot: boolean): { maps: IdMapping[]; warning?: string } {
  if (isRoot) {
    if (!range) return { maps: [] };
    return { maps: [{ containerID: 0, hostID: range.start, size: Math.min(range.count, 65536) }] };
  }
  if (!range) {
    return { maps: [{ containerID: 0, hostID: id, size: 1 }] };
  }
  return { maps: [{ containerID: 0, hostID: id, size: 1 }, { containerID: 1, hostID: range.start, size: Math.min(range.count, 65535) }] };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function hostIdMaps(files = { subuid: '/etc/subuid', subgid: '/etc/subgid' }): IdMapInfo {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const name = userInfo().username;
  const isRoot = uid === 0;
  const u = computeMappings(uid, findRange(readOrEmpty(files.subuid), name, uid), isRoot);
  const g = computeMappings(gid, findRange(readOrEmpty(files.subgid), name, uid), isRoot);
  if (isRoot && (u.maps.length === 0 || g.maps.length === 0)) {
    throw new NestboxError(
      'FAILED_PRECONDITION',
      `root has no subordinate id range in ${u.maps.length === 0 ? files.subuid : files.subgid}; container root is never host root, so add one: usermod --add-subuids 1000000-1065535 --add-subgids 1000000-1065535 root`,
    );
  }
  const info: IdMapInfo = {
    uidMappings: u.maps,
    gidMappings: g.maps,
    rootUid: u.maps[0].hostID,
    rootGid: g.maps[0].hostID,
  };
  if (u.maps.length === 1 && !isRoot) {
    info.warning = `no range for ${name} in ${files.subuid}/${files.subgid}: using a single-id mapping (only container uid 0 exists; files of other owners are squashed)`;
  }
  return info;
}
