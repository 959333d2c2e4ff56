#!/usr/bin/env node
// The CLI as one CommonJS file, dist/cli/nestbox-bundle.cjs, bundled from tsc's output
// (dist/cli/main.js and every verb it loads): a CLI start then compiles one file instead of
// resolving and linking ~40 ES modules, and never starts Node's ES module loader: ~10 ms less for
// every command (bench/lifecycle.mjs). It must bundle no package (test/unit/cli-imports.test.ts).
// import.meta means the bundle's own place, which is as deep in dist/ as every file it replaces
// (dist/*/x.js). The command itself, dist/cli/nestbox.cjs, is scripts/cli-loader.cjs: it runs the
// bundle with V8's code cache, which this script makes last by running `nestbox --help`.
// Usage: node scripts/bundle-cli.mjs [DIST_DIR]   (default: dist)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = resolve(root, process.argv[2] ?? 'dist');
const outfile = join(dist, 'cli', 'nestbox-bundle.cjs');
const command = join(dist, 'cli', 'nestbox.cjs');
const dir = mkdtempSync(join(tmpdir(), 'nbx-bundle-'));
try {
  const shim = join(dir, 'import-meta.js');
  writeFileSync(shim, "export const import_meta_url = require('node:url').pathToFileURL(__filename).href;\n");
  const result = await build({
    entryPoints: [join(dist, 'cli', 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    inject: [shim],
    define: { 'import.meta.url': 'import_meta_url', 'import.meta.dirname': '__dirname' },
    metafile: true,
    logLevel: 'warning',
  });
  const packages = Object.keys(result.metafile.inputs).filter((f) => f.includes('node_modules'));
  if (packages.length) throw new Error(`the CLI bundle must hold no package, got ${packages.join(', ')}`);
  // the entry's shebang belongs to the command, not to code a vm.Script compiles
  writeFileSync(outfile, readFileSync(outfile, 'utf8').replace(/^#![^\n]*\n/, ''));
  copyFileSync(join(root, 'scripts', 'cli-loader.cjs'), command);
  chmodSync(command, 0o755);
  // the code cache: compiled and run once (--help) in a node of this build's version and flags
  const env = { ...process.env, NESTBOX_WRITE_CODE_CACHE: '1' };
  const r = spawnSync(process.execPath, [command, '--help'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nestbox --help (writing the code cache) failed: ${r.stderr}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
