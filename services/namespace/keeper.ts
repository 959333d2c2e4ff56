/**
 * The user's keeper namespace (DESIGN.md "Rootless": like podman's pause process): one
 * long-lived process, started by `nestbox-runtime keeper`, whose user namespace has the id maps
 * containers get and whose mount namespace is where storage work runs (`nestbox-runtime join`).
 *
 * The keeper is recognised by pid + start time (/proc/PID/stat field 22) as the runtime records
 * them in the pid file, never by a bare pid: a recycled pid is not our keeper. It outlives the
 * service: a restarted service adopts the recorded one when it is still alive and still has the
 * maps we would give it; otherwise a new one is started. Every use checks it first, so a killed
 * keeper is replaced on the next use.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import type { IdMapInfo, IdMapping, KeeperInfo } from '../../lib/contracts/types.js';

export interface KeeperRecord { pid: number; startTime: number }

/** "PID STARTTIME" as the runtime writes it; undefined for anything else. */
export function parseKeeperRecord(text: string): KeeperRecord | undefined {
  const m = /^(\d+) (\d+)\n?$/.exec(text);
  if (!m) return undefined;
  const pid = Number(m[1]), startTime = Number(m[2]);
  return pid > 0 && Number.isSafeInteger(startTime) ? { pid, startTime } : undefined;
}

/** Start time (field 22) and state (field 3) of /proc/PID/stat; the name (field 2) may hold spaces. */
export function parseProcStat(text: string): { state: string; startTime: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' '); // fields[0] is field 3
  if (fields.length < 20) return undefined;
  return { state: fields[0], startTime: Number(fields[19]) };
}

/** /proc/PID/uid_map text as mappings (whitespace-aligned columns). */
export function parseIdMap(text: string): IdMapping[] {
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const [containerID, hostID, size] = line.trim().split(/\s+/).map(Number);
    return { containerID, hostID, size };
  });
}

const sameMaps = (a: IdMapping[], b: IdMapping[]) =>
  a.length === b.length && a.every((m, i) => m.containerID === b[i].containerID && m.hostID === b[i].hostID && m.size === b[i].size);

const mapArgs = (flag: string, maps: IdMapping[]) => maps.flatMap((m) => [flag, `${m.containerID}:${m.hostID}:${m.size}`]);

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export class Keeper {
  /**
   * `runtime`: the nestbox-runtime binary; `pidFile`: where the keeper is recorded (in the
   * user's runtime dir, so a reboot forgets it); `ids`: the maps containers get.
   */
  constructor(
    private readonly runtime: string,
    private readonly pidFile: string,
    private readonly ids: () => IdMapInfo,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** The live keeper, started (or replaced) when there is none. */
  ensure(purpose = 'storage'): KeeperInfo {
    const ids = this.ids();
    const recorded = this.recorded();
    if (recorded) {
      const state = this.check(recorded, ids);
      if (state === 'ok') return this.info(recorded, ids, false);
      if (state === 'other-maps') {
        // /etc/subuid changed since it started: ours, but no longer what containers get
        this.log(`nestbox namespace: keeper ${recorded.pid} has outdated id maps; replacing it`);
        this.kill(recorded);
      } else {
        this.log(`nestbox namespace: keeper ${recorded.pid} is gone; starting a new one`);
      }
    }
    const started = this.start(ids);
    this.log(`nestbox namespace: keeper started (pid ${started.pid}) for ${purpose}`);
    return this.info(started, ids, true);
  }

  /** The recorded keeper if it is alive (for tests and shutdown), without starting one. */
  current(): KeeperRecord | undefined {
    const r = this.recorded();
    return r && this.check(r, this.ids()) !== 'dead' ? r : undefined;
  }

  /** Kills the recorded keeper if it is still the recorded process. */
  stop(): void {
    const r = this.recorded();
    if (r && this.check(r, this.ids()) !== 'dead') this.kill(r);
  }

  private recorded(): KeeperRecord | undefined {
    const text = readOr(this.pidFile);
    return text === undefined ? undefined : parseKeeperRecord(text);
  }

  private check(r: KeeperRecord, ids: IdMapInfo): 'ok' | 'dead' | 'other-maps' {
    const stat = parseProcStat(readOr(`/proc/${r.pid}/stat`) ?? '');
    if (!stat || stat.startTime !== r.startTime || stat.state === 'Z' || stat.state === 'X') return 'dead';
    const uid = readOr(`/proc/${r.pid}/uid_map`);
    const gid = readOr(`/proc/${r.pid}/gid_map`);
    if (uid === undefined || gid === undefined) return 'dead';
    return sameMaps(parseIdMap(uid), ids.uidMappings) && sameMaps(parseIdMap(gid), ids.gidMappings) ? 'ok' : 'other-maps';
  }

  private kill(r: KeeperRecord): void {
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  private start(ids: IdMapInfo): KeeperRecord {
    const args = ['keeper', '--pid-file', this.pidFile, ...mapArgs('--uid-map', ids.uidMappings), ...mapArgs('--gid-map', ids.gidMappings)];
    const r = spawnSync(this.runtime, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      const said = (r.stderr ?? '').trim().split('\n').at(-1)?.replace(/^nestbox-runtime: /, '');
      throw new NestboxError('INTERNAL', `cannot start the keeper namespace: ${said || r.error?.message || `exit ${r.status}`}`);
    }
    const record = this.recorded();
    if (!record) throw new NestboxError('INTERNAL', `the keeper started but ${this.pidFile} is unreadable`);
    return record;
  }

  private info(r: KeeperRecord, ids: IdMapInfo, started: boolean): KeeperInfo {
    return { pid: r.pid, startTime: r.startTime, uidMappings: ids.uidMappings, gidMappings: ids.gidMappings, started };
  }
}
