/**
 * Container records: containers/<id>/record.json, written atomically. Ids are 64 hex chars and
 * names are unique; both are validated before they touch a path.
 */
import type { VolumeSpec } from '../../lib/volume-spec.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { DataLayout } from '../../lib/data-layout.js';
import { NestboxError } from '../../lib/errors.js';
import { CONTAINER_ID } from '../../lib/contracts/validators.js';

export type ContainerState = 'created' | 'running' | 'exited' | 'removing';

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  imageId: string;
  command: string[];
  hostname: string;
  createdAt: string;
  state: ContainerState;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  error?: string;
  oomKilled?: boolean;
  autoRemove: boolean;
  /** -v, as given */
  volumes?: VolumeSpec[];
  /** cgroup limits, as the run asked (cgroup-limits.ts ResourceLimits) */
  limits?: { memory?: number; memorySwap?: number; cpus?: number; cpuShares?: number; cpusetCpus?: string; pidsLimit?: number };
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'quiet', 'sharp', 'tidy', 'vivid', 'witty'];
const NOUNS = ['curie', 'darwin', 'euler', 'gauss', 'hopper', 'kepler', 'lovelace', 'noether', 'pascal', 'ritchie', 'turing', 'wozniak'];

export class ContainerStore {
  constructor(private readonly layout: DataLayout) {}

  create(fields: Omit<ContainerRecord, 'id' | 'createdAt' | 'state' | 'name'> & { name?: string }): ContainerRecord {
    const all = this.list();
    if (fields.name && all.some((c) => c.name === fields.name)) {
      throw new NestboxError('ALREADY_EXISTS', `the container name "${fields.name}" is already in use`);
    }
    let id: string;
    do id = randomBytes(32).toString('hex');
    while (all.some((c) => c.id === id));
    const record: ContainerRecord = {
      ...fields,
      id,
      name: fields.name ?? this.freeName(all),
      createdAt: new Date().toISOString(),
      state: 'created',
    };
    mkdirSync(this.layout.container(id), { recursive: true, mode: 0o711 });
    this.save(record);
    return record;
  }

  update(id: string, change: Partial<ContainerRecord>): ContainerRecord {
    const record = { ...this.get(id), ...change, id };
    this.save(record);
    return record;
  }

  get(id: string): ContainerRecord {
    try {
      return JSON.parse(readFileSync(this.recordPath(id), 'utf8')) as ContainerRecord;
    } catch {
      throw new NestboxError('NOT_FOUND', `no such container: ${id}`);
    }
  }

  exists(id: string): boolean {
    return existsSync(this.recordPath(id));
  }

  /** By full id, unique id prefix, or name (docker's rules). */
  find(ref: string): ContainerRecord {
    const all = this.list();
    const byName = all.find((c) => c.name === ref);
    if (byName) return byName;
    if (/^[0-9a-f]{1,64}$/.test(ref)) {
      const matches = all.filter((c) => c.id.startsWith(ref));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new NestboxError('INVALID_ARGUMENT', `container id prefix "${ref}" is ambiguous`);
    }
    throw new NestboxError('NOT_FOUND', `no such container: ${ref}`);
  }

  list(): ContainerRecord[] {
    let ids: string[];
    try {
      ids = readdirSync(this.layout.containers).filter((d) => CONTAINER_ID.test(d));
    } catch {
      return [];
    }
    return ids
      .filter((id) => existsSync(this.recordPath(id)))
      .map((id) => this.get(id))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Removes the record and the container directory (storage has removed its layer by then). */
  remove(id: string): void {
    rmSync(this.layout.container(id), { recursive: true, force: true });
  }

  private save(record: ContainerRecord): void {
    writeJsonAtomic(this.recordPath(record.id), record, { mode: 0o600 });
  }

  private recordPath(id: string): string {
    return join(this.layout.container(id), 'record.json');
  }

  private freeName(all: ContainerRecord[]): string {
    for (;;) {
      const name = `${ADJECTIVES[randomBytes(1)[0] % ADJECTIVES.length]}_${NOUNS[randomBytes(1)[0] % NOUNS.length]}`;
      const candidate = all.some((c) => c.name === name) ? `${name}_${randomBytes(2).toString('hex')}` : name;
      if (!all.some((c) => c.name === candidate)) return candidate;
    }
  }
}
