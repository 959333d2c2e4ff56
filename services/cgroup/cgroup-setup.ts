/**
 * `nestbox system setup-cgroups --user NAME [--undo]`, run once by root: makes (or takes away)
 * the cgroup subtree root delegated to one user, and the record its service finds it by (the
 * layout and the kernel rules behind it: cgroup-delegation.ts). Existing cgroups' settings are
 * never changed, with one exception on v2: a controller missing from the root cgroup's
 * subtree_control is enabled there (the only way to hand it down; left enabled by --undo, as
 * other cgroups may use it by then).
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { CgroupHost } from './cgroup-probe.js';
import { V1_USED } from './cgroup-v1.js';
import { V2_WANTED } from './cgroup-v2.js';
import { pidsIn } from './cgroup-dir.js';
import {
  DELEGATION_RECORD_DIR, type DelegationRecord, delegatedDirName, delegationRecordDir, parseDelegationRecord, recordPath, v2EntryLeaf,
} from './cgroup-delegation.js';

export interface DelegatedUser {
  name: string;
  uid: number;
  gid: number;
}

/** What a delegation consists of on this host: the record setup writes (existing dirs kept). */
export function plannedDelegation(host: CgroupHost, user: DelegatedUser, previous?: DelegationRecord): DelegationRecord {
  const name = delegatedDirName(user.uid);
  const v1: Record<string, string> = {};
  for (const h of host.v1.filter((x) => x.controllers.some((c) => V1_USED.includes(c)))) {
    const key = h.controllers.join(',');
    v1[key] = previous?.v1[key] ?? join(h.ownDir, name);
  }
  const record: DelegationRecord = { user: user.name, uid: user.uid, v1 };
  if (host.layout === 'unified') record.v2 = previous?.v2 ?? join(host.v2!.mountPoint, name);
  return record;
}

function readRecord(uid: number): DelegationRecord | undefined {
  try {
    return parseDelegationRecord(readFileSync(recordPath(uid), 'utf8'), uid);
  } catch {
    return undefined;
  }
}

function words(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

function fail(what: string, path: string, err: unknown): never {
  throw new NestboxError('FAILED_PRECONDITION', `setup-cgroups: cannot ${what} ${path}: ${(err as Error).message}`);
}

/** Makes `dir` (if needed) and gives it and `files` in it to the user; returns a line saying what it did. */
function delegateDir(dir: string, files: string[], user: DelegatedUser): string {
  const existed = existsSync(dir);
  try { mkdirSync(dir); } catch (err) { if (!existed) fail('make', dir, err); }
  for (const path of [dir, ...files.map((f) => join(dir, f))]) {
    try {
      chownSync(path, user.uid, user.gid);
    } catch (err) {
      if (path !== dir && (err as NodeJS.ErrnoException).code === 'ENOENT') continue; // cgroup.threads: kernels >= 4.14
      fail('chown', path, err);
    }
  }
  return `${existed ? 'kept' : 'made'} ${dir} (owner ${user.name})`;
}

/** Sets up (idempotently) the delegation for `user`; returns what it did, one line each. */
export function setupDelegation(host: CgroupHost, user: DelegatedUser): string[] {
  if (host.layout === 'none') throw new NestboxError('FAILED_PRECONDITION', 'setup-cgroups: no cgroup file system is mounted');
  const record = plannedDelegation(host, user, readRecord(user.uid));
  const lines: string[] = [];
  // v1: the user creates its own cgroups below; the kernel gives their files to their creator
  for (const dir of Object.values(record.v1)) lines.push(delegateDir(dir, ['cgroup.procs', 'tasks'], user));
  if (record.v2) {
    const root = host.v2!.mountPoint;
    const available = words(join(root, 'cgroup.controllers'));
    const enabled = words(join(root, 'cgroup.subtree_control'));
    for (const c of V2_WANTED.filter((x) => available.includes(x) && !enabled.includes(x))) {
      try { writeFileSync(join(root, 'cgroup.subtree_control'), `+${c}`); } catch (err) { fail(`enable +${c} in`, join(root, 'cgroup.subtree_control'), err); }
      lines.push(`enabled the ${c} controller in ${join(root, 'cgroup.subtree_control')}`);
    }
    // the kernel's cgroup-v2 "Delegation": the directory and these three files go to the delegatee
    lines.push(delegateDir(record.v2, ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'], user));
    // enabled while the subtree root holds no process (it never will: the services run in the leaf)
    const has = words(join(record.v2, 'cgroup.controllers'));
    const handed = words(join(record.v2, 'cgroup.subtree_control'));
    for (const c of V2_WANTED.filter((x) => has.includes(x) && !handed.includes(x))) {
      try { writeFileSync(join(record.v2, 'cgroup.subtree_control'), `+${c}`); } catch (err) { fail(`enable +${c} in`, join(record.v2, 'cgroup.subtree_control'), err); }
    }
    lines.push(delegateDir(v2EntryLeaf(record.v2), ['cgroup.procs', 'cgroup.threads'], user));
    const missing = V2_WANTED.filter((c) => !has.includes(c));
    if (missing.length) lines.push(`note: the ${missing.join(', ')} controller(s) are not available in ${record.v2}; limits on them will be refused`);
  }
  mkdirSync(delegationRecordDir(), { recursive: true, mode: 0o755 });
  writeJsonAtomic(recordPath(user.uid), record, { mode: 0o644 });
  lines.push(`wrote ${recordPath(user.uid)}`);
  if (record.v2) lines.push(`start ${user.name}'s nestbox inside ${v2EntryLeaf(record.v2)} (as root: echo PID > ${v2EntryLeaf(record.v2)}/cgroup.procs); a running one must be stopped first ("nestbox system stop")`);
  else lines.push(`a nestbox ${user.name} already runs picks this up after "nestbox system stop"`);
  return lines;
}

/** Removes `dir` and the empty cgroups below it, children first; a cgroup with processes stops it. */
function removeCgroupTree(dir: string): void {
  let st;
  try { st = statSync(dir); } catch { return; }
  if (!st.isDirectory()) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt === 50) removeFailed(dir, err);
      Atomics.wait(PAUSE, 0, 0, 20); // a task just killed lingers for a moment
    }
  }
}

/** The first cgroup at or below `dir` that holds a process. */
function firstBusyCgroup(dir: string): string | undefined {
  if (pidsIn(dir).length) return dir;
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return undefined; }
  for (const e of entries) {
    const found = e.isDirectory() ? firstBusyCgroup(join(dir, e.name)) : undefined;
    if (found) return found;
  }
  return undefined;
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

function removeFailed(dir: string, err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EBUSY' || code === 'ENOTEMPTY') {
    throw new NestboxError('FAILED_PRECONDITION', `setup-cgroups: ${dir} still holds processes; stop that user's nestbox ("nestbox system stop") and containers first`);
  }
  fail('remove', dir, err);
}

/** Takes the delegation for `user` away (idempotent); returns what it did. */
export function removeDelegation(host: CgroupHost, user: DelegatedUser): string[] {
  const record = plannedDelegation(host, user, readRecord(user.uid));
  const lines: string[] = [];
  const dirs = [...Object.values(record.v1), ...(record.v2 ? [record.v2] : [])].filter((d) => existsSync(d));
  // all or nothing: refused before anything is removed while a process is left anywhere below
  let busy = dirs.map(firstBusyCgroup).find(Boolean);
  for (let attempt = 0; busy && attempt < 50; attempt++) {
    Atomics.wait(PAUSE, 0, 0, 20); // a task just killed lingers for a moment
    busy = dirs.map(firstBusyCgroup).find(Boolean);
  }
  if (busy) removeFailed(busy, Object.assign(new Error('busy'), { code: 'EBUSY' }));
  for (const dir of dirs) {
    removeCgroupTree(dir);
    lines.push(`removed ${dir}`);
  }
  if (existsSync(recordPath(user.uid))) {
    unlinkSync(recordPath(user.uid));
    lines.push(`removed ${recordPath(user.uid)}`);
  }
  // the record's directories, when setup made them and nothing else lives there
  if (delegationRecordDir() === DELEGATION_RECORD_DIR) {
    for (const dir of [DELEGATION_RECORD_DIR, join(DELEGATION_RECORD_DIR, '..')]) {
      try { rmdirSync(dir); } catch { /* not empty, or not there */ }
    }
  }
  if (lines.length === 0) lines.push(`nothing to remove: no cgroup delegation for ${user.name}`);
  return lines;
}
