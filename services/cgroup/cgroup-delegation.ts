/**
 * A cgroup subtree root delegated to one unprivileged user by `nestbox system setup-cgroups`,
 * and how that user's cgroup service finds it.
 *
 * The record: `/etc/nestbox/cgroups/<uid>.json` (see delegationRecordDir), written by root (root-owned, not writable by
 * others, else ignored). It names the delegated directories:
 *  - v1: one directory per hierarchy (`<root's own cgroup>/nestbox-user-<uid>`), owned by the
 *    user. On v1 the kernel lets a task be moved into a cgroup when the writer may write the
 *    destination's cgroup.procs and its euid is root or the task's uid (no check on the source),
 *    so the user's runtime can move its own container processes there from wherever the service
 *    runs: the service reads the record and creates `<delegated>/nestbox/<id>` per hierarchy.
 *    Only the directory, cgroup.procs and tasks are the user's: the delegated directory's own
 *    limits stay root's. Run setup from a cgroup that lasts (a boot unit, not a login scope that
 *    is removed at logout); a second run keeps the recorded directories.
 *  - v2: one directory S = `<cgroup2 root>/nestbox-user-<uid>` (the root cgroup is the only one
 *    that may hold processes and still enable controllers for its children), its controllers
 *    enabled in the root's subtree_control and in its own, S plus its cgroup.procs,
 *    cgroup.subtree_control and cgroup.threads chowned to the user (the kernel's "Delegation"
 *    rules), and the leaf S/service, also the user's. Moving a process needs write access to
 *    cgroup.procs of the common ancestor of source and destination, so a user cannot move in from
 *    outside: root starts the user's nestbox in S/service (`echo PID > S/service/cgroup.procs`, or
 *    a unit placed there). S/service stays a leaf (S itself, having controllers enabled for its
 *    children, may hold no process: "no internal processes"), so it can be entered again at every
 *    start. A service that runs within S makes its containers' cgroups in S/nestbox/<id>; the
 *    common ancestor S is the user's, so its runtime may move them there.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupHost } from './cgroup-probe.js';

export const DELEGATION_RECORD_DIR = '/etc/nestbox/cgroups';

/**
 * Where records are: `NESTBOX_CGROUP_DELEGATION_DIR` moves it (as NESTBOX_DATA_ROOT moves the
 * data; the tests use it so that their delegation is seen by their own instances only). A record
 * grants nothing the kernel would not: it only says where the user's cgroups go.
 */
export function delegationRecordDir(): string {
  const dir = process.env.NESTBOX_CGROUP_DELEGATION_DIR;
  return dir && dir.startsWith('/') ? dir : DELEGATION_RECORD_DIR;
}

export interface DelegationRecord {
  user: string;
  uid: number;
  /** v1: hierarchy controllers joined by ',' (as in /proc/self/cgroup) -> delegated directory */
  v1: Record<string, string>;
  /** v2: the delegated subtree root */
  v2?: string;
}

export function recordPath(uid: number): string {
  return join(delegationRecordDir(), `${uid}.json`);
}

/** The directory name setup makes for a user in each hierarchy. */
export function delegatedDirName(uid: number): string {
  return `nestbox-user-${uid}`;
}

/** v2: the leaf of a delegated subtree root the user's nestbox is started in. */
export function v2EntryLeaf(subtreeRoot: string): string {
  return join(subtreeRoot, 'service');
}

/** Validates a record's text; undefined when it is not one for `uid`. */
export function parseDelegationRecord(text: string, uid: number): DelegationRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = raw as Partial<DelegationRecord>;
  if (typeof r !== 'object' || r === null || r.uid !== uid || typeof r.user !== 'string') return undefined;
  if (typeof r.v1 !== 'object' || r.v1 === null || Object.values(r.v1).some((d) => typeof d !== 'string' || !d.startsWith('/'))) return undefined;
  if (r.v2 !== undefined && (typeof r.v2 !== 'string' || !r.v2.startsWith('/'))) return undefined;
  return { user: r.user, uid, v1: { ...r.v1 }, ...(r.v2 ? { v2: r.v2 } : {}) };
}

/** The record root wrote for `uid`, if there is a trustworthy one. */
export function readDelegationRecord(uid: number): DelegationRecord | undefined {
  const file = recordPath(uid);
  try {
    const st = statSync(file);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return undefined; // only root may have written it
    return parseDelegationRecord(readFileSync(file, 'utf8'), uid);
  } catch {
    return undefined;
  }
}

/**
 * The host as the v1 driver should see it with a delegation: each delegated hierarchy's "own"
 * directory is the delegated one (nestbox/<id> is made below it); hierarchies without a
 * delegated directory are left out. Pure, for unit tests.
 */
export function delegatedV1Host(host: CgroupHost, record: DelegationRecord): CgroupHost {
  const key = (controllers: string[]) => [...controllers].sort().join(',');
  const byKey = new Map(Object.entries(record.v1).map(([k, dir]) => [key(k.split(',')), dir]));
  const v1 = host.v1.flatMap((h) => {
    const dir = byKey.get(key(h.controllers));
    return dir ? [{ ...h, ownDir: dir }] : [];
  });
  return { ...host, v1 };
}

/** Whether `dir` is `root` or below it (both absolute cgroup directories). */
export function isWithin(dir: string, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  return dir === r || dir.startsWith(`${r}/`);
}
