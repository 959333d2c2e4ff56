/**
 * Finds, once at start, how cgroups are mounted (legacy v1, hybrid, unified v2) and where this
 * process sits in each hierarchy. nestbox creates cgroups only below a `nestbox` child of the
 * cgroup its own process is in, and never changes an existing cgroup's settings.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MountedHierarchy {
  /** v1 controllers on this mount (e.g. ['cpu','cpuacct']); [] for cgroup2 */
  controllers: string[];
  mountPoint: string;
  /** this process's cgroup dir inside the mount */
  ownDir: string;
}

export interface CgroupHost {
  layout: 'legacy' | 'hybrid' | 'unified' | 'none';
  v1: MountedHierarchy[];
  v2?: MountedHierarchy;
}

/** Parses /proc/self/mountinfo and /proc/self/cgroup texts (separate for unit tests). */
export function parseCgroupHost(mountinfo: string, selfCgroup: string): CgroupHost {
  const own = new Map<string, string>(); // controller list ("memory", "cpu,cpuacct", "" for v2) -> path
  for (const line of selfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m) own.set(m[2], m[3]);
  }
  const v1: MountedHierarchy[] = [];
  let v2: MountedHierarchy | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountRoot = unescape(left[3]);
    const mountPoint = unescape(left[4]);
    if (fstype === 'cgroup2') {
      const path = own.get('');
      if (path !== undefined) v2 = { controllers: [], mountPoint, ownDir: join(mountPoint, relative(path, mountRoot)) };
    } else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => !['rw', 'ro'].includes(o) && !o.includes('=') && !['clone_children', 'noprefix', 'xattr'].includes(o));
      if (controllers.length === 0) continue;
      const key = [...own.keys()].find((k) => k.split(',').sort().join(',') === [...controllers].sort().join(','));
      if (key === undefined) continue;
      v1.push({ controllers, mountPoint, ownDir: join(mountPoint, relative(own.get(key)!, mountRoot)) });
    }
  }
  const layout = v1.length === 0 ? (v2 ? 'unified' : 'none') : v2 ? 'hybrid' : 'legacy';
  return { layout, v1, v2 };
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup path relative to the mount's root (a mount of a sub-hierarchy, as in containers). */
function relative(path: string, mountRoot: string): string {
  const rel = mountRoot === '/' || !path.startsWith(mountRoot) ? path : path.slice(mountRoot.length);
  return rel.replace(/^\/+|\/+$/g, '');
}

export function probeCgroupHost(): CgroupHost {
  return parseCgroupHost(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
}

export function isWritableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
