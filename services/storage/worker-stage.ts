/**
 * As root, the extraction and commit workers run inside the keeper as container root, i.e. as
 * root's first subordinate uid on the host: it cannot read a project that sits under a private
 * directory (a checkout in /root, mode 0700). So root runs a copy: the worker, the modules of its
 * own directory and the packages it imports, and the native runtime it calls, staged once per
 * content under <data root>/worker/<hash>/ (root's files, world-readable, in a directory container
 * root may traverse). An unprivileged user runs its own worker directly: it
 * runs the project's node code already, so it can read it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';

interface Package { name: string; dir: string; version: string }

/**
 * The path of a worker every uid can run: `worker` itself unless root, else its staged copy, with
 * the modules it imports from its own directory (`./x.js`) and `tools` (native programs the worker
 * runs, passed as `--runtime` etc.) beside it under the same names.
 */
export function stageWorker(workerRoot: string, worker: string, tools: string[] = []): string {
  if (process.getuid?.() !== 0) return worker;
  untraversable(workerRoot);
  const modules = localModules(worker);
  const sources = modules.map((m) => readFileSync(m, 'utf8'));
  const packages = dependencyClosure(sources.flatMap(bareImports), dirname(worker));
  const hash = createHash('sha256');
  for (const [i, m] of modules.entries()) hash.update(`\0${basename(m)}\0${sources[i]}`);
  for (const t of tools) hash.update(`\0${basename(t)}\0`).update(readFileSync(t));
  for (const p of packages) hash.update(`\0${p.name}@${p.version}`);
  const dest = join(workerRoot, hash.digest('hex').slice(0, 16));
  const staged = join(dest, basename(worker));
  if (existsSync(staged)) return staged;

  mkdirSync(workerRoot, { recursive: true, mode: 0o711 });
  chmodSync(workerRoot, 0o711);
  const tmp = join(workerRoot, `.stage-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(join(tmp, 'node_modules'), { recursive: true });
    writeFileSync(join(tmp, 'package.json'), '{"type":"module"}\n');
    for (const [i, m] of modules.entries()) writeFileSync(join(tmp, basename(m)), sources[i]);
    for (const t of tools) cpSync(t, join(tmp, basename(t)));
    for (const p of packages) cpSync(p.dir, join(tmp, 'node_modules', p.name), { recursive: true, dereference: true });
    worldReadable(tmp);
    for (const t of tools) chmodSync(join(tmp, basename(t)), 0o755);
    try {
      renameSync(tmp, dest);
    } catch (err) {
      // another service process staged the same content first: theirs is as good
      if (!existsSync(staged)) throw err;
    }
    return staged;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `worker` and the modules of its own directory it imports (`./x.js`), transitively; `../` cannot be staged. */
function localModules(worker: string): string[] {
  const found: string[] = [];
  const visit = (file: string): void => {
    if (found.includes(file)) return;
    found.push(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?<![.\w$])(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]*)['"]/g)) {
      if (!/^\.\/[^/]+$/.test(m[1])) throw new NestboxError('INTERNAL', `${file} imports ${m[1]}, outside its directory: it cannot be staged`);
      visit(join(dirname(file), m[1]));
    }
  };
  visit(worker);
  return found;
}

/** Container root is "others" on the host: every directory above the data root must let others through. */
function untraversable(workerRoot: string): void {
  for (let dir = dirname(workerRoot); ; dir = dirname(dir)) {
    let mode: number;
    try {
      mode = statSync(dir).mode;
    } catch {
      mode = 0o777; // made later, 0711, by the data layout
    }
    if ((mode & 0o001) === 0) {
      throw new NestboxError('FAILED_PRECONDITION', `${dir} (mode ${(mode & 0o777).toString(8)}) cannot be traversed by container root, which extracts layers as a subordinate uid: chmod o+x it, or put the data root elsewhere`);
    }
    if (dir === '/') return;
  }
}

/** Package names of the static imports (`from 'tar'`, `from '@scope/x/sub'`), builtins left out. */
function bareImports(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/(?<![.\w$])(?:from|import)\s*\(?\s*['"]([^'".][^'"]*)['"]/g)) {
    const spec = m[1];
    if (spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return [...names];
}

/** `names` and everything they depend on, each resolved as node does: the nearest node_modules up from `from`. */
function dependencyClosure(names: string[], from: string): Package[] {
  const found = new Map<string, Package>();
  const visit = (name: string, base: string): void => {
    if (found.has(name)) return;
    const dir = resolvePackage(name, base);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string; dependencies?: Record<string, string> };
    found.set(name, { name, dir, version: meta.version ?? '0' });
    for (const dep of Object.keys(meta.dependencies ?? {})) visit(dep, dir);
  };
  for (const n of names) visit(n, from);
  return [...found.values()];
}

function resolvePackage(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) throw new NestboxError('INTERNAL', `package ${name} (needed by the extraction worker) not found from ${from}`);
  }
}

/** Directories 0755, files 0644: owned by root, readable by container root. */
function worldReadable(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const e of readdirSync(path)) worldReadable(join(path, e));
  } else chmodSync(path, 0o644);
}
