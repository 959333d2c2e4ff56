// The VM cache (.vm-cache/ in the project by default): downloaded .debs and built artifacts,
// each recorded with its sha256 in manifest.json. An artifact is re-used only when its file
// still has the recorded hash, so a truncated download or a half-written build from an
// interrupted run is rebuilt instead of booted. One runner at a time holds the cache lock.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync, readdirSync, lstatSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

export class Cache {
  constructor(dir) {
    this.dir = dir;
    this.manifestPath = join(dir, 'manifest.json');
    mkdirSync(dir, { recursive: true });
    this.manifest = existsSync(this.manifestPath) ? JSON.parse(readFileSync(this.manifestPath, 'utf8')) : { version: 1, entries: {} };
  }

  path(...parts) {
    return join(this.dir, ...parts);
  }

  /** The recorded entry for a cache-relative path, or undefined. */
  entry(rel) {
    return this.manifest.entries[rel];
  }

  /** Records a file (or a directory's tree digest) with its hash and extra facts; saves atomically. */
  async record(rel, facts = {}) {
    const abs = this.path(rel);
    const sha256 = lstatSync(abs).isDirectory() ? await treeDigest(abs) : await sha256File(abs);
    this.manifest.entries[rel] = { sha256, recorded: new Date().toISOString(), ...facts };
    this.save();
    return this.manifest.entries[rel];
  }

  forget(rel) {
    delete this.manifest.entries[rel];
    this.save();
  }

  /**
   * True when `rel` exists, is recorded, the recorded facts match `expect` (e.g. the inputs it
   * was built from), and its content still hashes to the recorded sha256.
   */
  async valid(rel, expect = {}) {
    const e = this.entry(rel);
    const abs = this.path(rel);
    if (!e || !existsSync(abs)) return false;
    for (const [k, v] of Object.entries(expect)) if (e[k] !== v) return false;
    const actual = lstatSync(abs).isDirectory() ? await treeDigest(abs) : await sha256File(abs);
    return actual === e.sha256;
  }

  save() {
    const tmp = `${this.manifestPath}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.manifest, null, 2)}\n`);
    renameSync(tmp, this.manifestPath);
  }

  /** Takes the cache lock (a pid file); a lock left by a dead process is taken over. */
  lock() {
    const lockPath = this.path('lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(lockPath, { force: true });
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
        const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
        if (pid && pidAlive(pid)) throw new Error(`the VM cache ${this.dir} is in use by process ${pid}`);
        rmSync(lockPath, { force: true });
      }
    }
    throw new Error(`cannot lock ${lockPath}`);
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256Text(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' || Buffer.isBuffer(p) ? p : JSON.stringify(p));
  return h.digest('hex');
}

/** A digest of a whole tree: sorted relative paths with each file's sha256 (or link target). */
export async function treeDigest(root) {
  const lines = [];
  const walk = async (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const st = lstatSync(abs);
      const rel = relative(root, abs);
      if (st.isDirectory()) await walk(abs);
      else if (st.isSymbolicLink()) lines.push(`L ${rel} ${readlinkSync(abs)}`);
      else lines.push(`F ${rel} ${await sha256File(abs)}`);
    }
  };
  await walk(root);
  return sha256Text(lines.join('\n'));
}
