/**
 * What node cannot do to a layer directory, done by `nestbox-runtime layer apply|xattrs`
 * (native/src/layer_attrs.c) in one process per layer: overlay whiteouts (char device 0/0),
 * opaque directories (user.overlay.opaque) and extended attributes. Used by the extraction and
 * commit workers inside the keeper namespace (imported by them: no imports of this project).
 */
import { spawnSync } from 'node:child_process';

export type LayerAttr =
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string }
  | { kind: 'xattr'; path: string; name: string; value: Buffer };

/** An extended attribute the kernel refused to set (e.g. trusted.* in a user namespace). */
export interface RefusedXattr { name: string; path: string; reason: string }

/** xattrs overlay keeps for itself (kernel: trusted./user.overlay.*, fuse-overlayfs: user.fuseoverlayfs.*) */
export const isOverlayXattr = (name: string) => /^(trusted|user)\.overlay\./.test(name) || name.startsWith('user.fuseoverlayfs.');

function run(runtime: string, args: string[], input?: Buffer): Buffer {
  const r = spawnSync(runtime, args, { input, maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`${runtime} ${args.slice(0, 2).join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    const said = r.stderr.toString().trim().split('\n').at(-1)?.replace(/^nestbox-runtime: /, '');
    throw new Error(said || `${runtime} ${args.slice(0, 2).join(' ')}: exit ${r.status ?? r.signal}`);
  }
  return r.stdout;
}

/** Makes the whiteouts, opaque dirs and xattrs (relative paths) under `dir`; returns the xattrs the kernel refused. */
export function applyLayerAttrs(runtime: string, dir: string, attrs: LayerAttr[]): RefusedXattr[] {
  if (attrs.length === 0) return [];
  const fields: string[] = [];
  for (const a of attrs) {
    if (a.kind === 'xattr') fields.push('x', a.path, a.name, a.value.toString('hex'));
    else fields.push(a.kind === 'whiteout' ? 'w' : 'o', a.path);
  }
  const input = Buffer.from(fields.map((f) => `${f}\0`).join(''));
  return run(runtime, ['layer', 'apply', '--dir', dir], input).toString().split('\n').filter((l) => l.startsWith('refused ')).map((l) => {
    const [name, path, reason] = l.slice('refused '.length).split('\t');
    return { name, path, reason };
  });
}

/** Every extended attribute under `dir` (the directory itself is "."), by relative path. */
export function readLayerXattrs(runtime: string, dir: string): Map<string, Map<string, Buffer>> {
  const out = run(runtime, ['layer', 'xattrs', '--dir', dir]);
  const byPath = new Map<string, Map<string, Buffer>>();
  let at = 0;
  const next = () => {
    const end = out.indexOf(0, at);
    if (end < 0) throw new Error('nestbox-runtime layer xattrs: its output ends inside a record');
    const s = out.subarray(at, end);
    at = end + 1;
    return s;
  };
  while (at < out.length) {
    const path = next().toString();
    const name = next().toString();
    const value = Buffer.from(next().toString(), 'hex');
    if (!byPath.has(path)) byPath.set(path, new Map());
    byPath.get(path)!.set(name, value);
  }
  return byPath;
}
