/**
 * Container records: containers/<id>/record.json, written atomically. Ids are 64 hex chars and
 * names are unique; both are validated before they touch a path.
 */
import type { VolumeSpec } from '../../lib/volume-spec.js';
import type { GivenConfig } from './inspect-view.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { DataLayout } from '../../lib/data-layout.js';
import { NestboxError } from '../../lib/errors.js';
import { CONTAINER_ID } from '../../lib/contracts/validators.js';
import { nextState, type ContainerEvent, type ContainerState } from './container-state.js';

export type { ContainerState };

/** What every start of the container launches (docker's container config): fixed at create. */
export interface LaunchConfig {
  process: { args: string[]; env: string[]; cwd: string; uid: number; gid: number; username?: string };
  network: string;
  init?: boolean;
  /** -t: a pty */
  tty?: boolean;
  /** -i: stdin is a pipe attach clients feed */
  stdin?: boolean;
}

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
  /** inspect's User and Entrypoint as given (inspect-view.ts givenConfig) */
  given?: GivenConfig;
  /** -v, as given */
  volumes?: VolumeSpec[];
  /** pause: its processes are frozen (a flag of a running container, as docker's State.Paused) */
  paused?: boolean;
  /** the image's labels and -l's (lib/labels.ts) */
  labels?: Record<string, string>;
  /** cgroup limits, as the run asked (cgroup-limits.ts ResourceLimits) */
  limits?: { memory?: number; memorySwap?: number; cpus?: number; cpuShares?: number; cpusetCpus?: string; pidsLimit?: number };
  /** set by create; records from before create/start existed have none and cannot be started again */
  config?: LaunchConfig;
}

const ADJECTIVES = ['brave', 'calm', 'eager', 'fond', 'keen', 'lucid', 'merry', 'quiet', 'sharp', 'tidy', 'vivid', 'witty'];
const NOUNS = ['curie', 'darwin', 'euler', 'gauss', 'hopper', 'kepler', 'lovelace', 'noether', 'pascal', 'ritchie', 'turing', 'wozniak'];

export class ContainerStore {
  constructor(readonly layout: DataLayout) {}

  /**
   * A new record, `creating` until its preparation is done (the transition `prepared`). Checking
   * the name and writing the record is one synchronous step: two creates cannot take one name.
   */
  create(fields: Omit<ContainerRecord, 'id' | 'createdAt' | 'state' | 'name'> & { name?: string }): ContainerRecord {
    const all = this.list();
    const holder = fields.name ? all.find((c) => c.name === fields.name) : undefined;
    if (holder) {
      throw new NestboxError('ALREADY_EXISTS', `the container name "${fields.name}" is already in use by container "${holder.id}": remove (or rename) that container to be able to reuse that name`);
    }
    let id: string;
    do id = randomBytes(32).toString('hex');
    while (all.some((c) => c.id === id));
    const record: ContainerRecord = {
      ...fields,
      id,
      name: fields.name ?? this.freeName(all),
      createdAt: new Date().toISOString(),
      state: 'creating',
    };
    mkdirSync(this.layout.container(id), { recursive: true, mode: 0o711 });
    this.save(record);
    return record;
  }

  /** Changes fields other than the state (that goes through `transition`, and only there). */
  update(id: string, change: Partial<Omit<ContainerRecord, 'state' | 'id'>>): ContainerRecord {
    const record = { ...this.get(id), ...change, id };
    this.save(record);
    return record;
  }

  /**
   * Moves the container by the transition table (container-state.ts), with CHANGE written in the
   * same atomic write; a refused move throws its one-line reason, a no-op changes nothing. One
   * synchronous read-check-write: nothing else in this process can come between.
   */
  transition(id: string, event: ContainerEvent, change: Partial<ContainerRecord> = {}): { record: ContainerRecord; moved: boolean } {
    const record = this.get(id);
    const move = nextState(record.state, event, record.name);
    if (move.kind === 'refuse') throw new NestboxError(move.code, move.message);
    if (move.kind === 'noop') return { record, moved: false };
    const moved = { ...record, ...change, id, state: move.to };
    this.save(moved);
    return { record: moved, moved: true };
  }

  /**
   * `rename`: NAME must be free. The check and the write happen in one turn of the event loop,
   * so two renames in this process cannot both take a name.
   */
  rename(id: string, name: string): ContainerRecord {
    const record = this.get(id);
    if (record.name === name) throw new NestboxError('INVALID_ARGUMENT', 'Renaming a container with the same name as its current name');
    const holder = this.list().find((c) => c.name === name);
    if (holder) {
      throw new NestboxError('ALREADY_EXISTS', `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    return this.update(id, { name });
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
    // one record that cannot be read (a power loss mid-write) must not hide all the others
    return this.containerDirs()
      .flatMap((id) => {
        try {
          return [this.get(id)];
        } catch {
          return [];
        }
      })
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Container dirs whose record is missing or cannot be read (a power loss mid-write). */
  unreadable(): string[] {
    return this.containerDirs().filter((id) => {
      try {
        this.get(id);
        return false;
      } catch {
        return true;
      }
    });
  }

  /** Removes the record and the container directory (storage has removed its layer by then). */
  remove(id: string): void {
    rmSync(this.layout.container(id), { recursive: true, force: true });
  }

  /**
   * A --rm container cannot outlive the machine, so its record is not synced: ~1.5 ms less for
   * each of its moves. After a power loss it may be empty: `unreadable` finds it, the reconciler
   * removes it.
   */
  private save(record: ContainerRecord): void {
    writeJsonAtomic(this.recordPath(record.id), record, { mode: 0o600, sync: !record.autoRemove });
  }

  /** The ids of the container dirs there are. */
  private containerDirs(): string[] {
    try {
      return readdirSync(this.layout.containers).filter((d) => CONTAINER_ID.test(d));
    } catch {
      return [];
    }
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
