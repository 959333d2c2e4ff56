/**
 * The probe (test/helpers/probe.c) in a test root filesystem: a static binary that tries one
 * privileged operation and prints "ok" or "errno ENAME". Compiled once per test process with
 * gcc -static (libc6-dev ships libc.a), removed by the after hook.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './host.js';

let dir: string | undefined;

function probeBinary(): string {
  if (!dir) {
    dir = mkdtempSync('/tmp/nbx-probe-');
    const src = join(projectRoot(), 'test', 'helpers', 'probe.c');
    const cc = spawnSync('gcc', ['-static', '-O1', '-Wall', '-Werror', '-o', join(dir, 'probe'), src], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc probe.c failed:\n${cc.stderr}`);
  }
  return join(dir, 'probe');
}

export function registerProbeHooks(): void {
  test.after.always(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
}

/** Copies the probe to LOWER/bin/NAME (mode 0755; makeBundle chowns it afterwards). */
export function installProbe(lower: string, name = 'probe'): void {
  const dst = join(lower, 'bin', name);
  copyFileSync(probeBinary(), dst);
  chmodSync(dst, 0o755);
}
