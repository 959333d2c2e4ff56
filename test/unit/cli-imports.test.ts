/**
 * The CLI stays a thin ZeroMQ client: following every import of the compiled cli/main.js (static
 * and the per-verb dynamic ones) reaches no package at all: no NestJS, rxjs, class-validator or
 * reflect-metadata, and not even the zeromq addon (it speaks ZMTP over node:net,
 * lib/transport/ipc-dealer-connection.ts; loading the addon cost ~12 ms a start). A static walk
 * of the compiled files, so a verb that is never run in a test is checked too.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IMPORT = /(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm;

function walk(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>(); // package -> first file importing it
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!existsSync(target)) throw new Error(`${relative(dist, file)} imports ${spec}, which is not built`);
        queue.push(target);
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!packages.has(name)) packages.set(name, relative(dist, file));
      }
    }
  }
  return { files, packages };
}

test('cli/main.js and every verb it loads import only node: modules', (t) => {
  const { files, packages } = walk(join(dist, 'cli', 'main.js'));
  t.deepEqual([...packages.keys()], [], JSON.stringify(Object.fromEntries(packages)));
  const verbs = [...files].filter((f) => f.includes(`${join('cli', 'commands')}/`));
  t.true(verbs.length >= 20, `the per-verb modules were followed (${verbs.length})`);
  t.false([...files].some((f) => /\.(module|controller|dto)\.js$/.test(f)), 'no Nest module, controller or DTO file');
});

test('the bundled CLI (cli/nestbox.cjs, what bin and the README run, and its bundle) requires only node: built-ins', (t) => {
  const command = readFileSync(join(dist, 'cli', 'nestbox.cjs'), 'utf8');
  t.true(command.startsWith('#!/usr/bin/env -S node --\n'), 'it keeps the shebang that passes -- to node');
  const bundle = readFileSync(join(dist, 'cli', 'nestbox-bundle.cjs'), 'utf8');
  t.false(bundle.startsWith('#!'), 'the bundle is compiled by a vm.Script: no shebang');
  t.true(existsSync(join(dist, 'cli', 'nestbox-bundle.cjs.cache')), 'the build made its code cache');
  const required = [...new Set([...`${command}\n${bundle}`.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]))];
  t.true(required.includes('node:net') && required.includes('node:vm'), `both were searched (${required.join(' ')})`);
  t.deepEqual(required.filter((r) => !r.startsWith('node:') && !builtinModules.includes(r)), []);
  t.false(/\bimport\(/.test(bundle), 'no dynamic import(): a vm.Script has no loader for it');
});
