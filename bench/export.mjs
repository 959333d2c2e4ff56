#!/usr/bin/env node
// export throughput (issue: storage service in depth, acceptance 5): the median wall time of
//   nestbox export -o FILE C        and        nestbox export C > FILE
// next to
//   tar -cf - DIR > FILE
// of the same tree (the export extracted once into DIR), in one run, alternating, N runs each
// (default 5; the first of each is a warm-up, not counted), files on the same file system. C is a
// stopped busybox container whose upper dir holds ~200 MB of generated files of varied sizes
// (~4000 files of 100 B-60 KB in 40 directories, 20 files of 4 MB). The whole CLI is timed (node
// start-up, the services, the keeper join, the mount), as a user runs it; services warm.
// A private instance (own runtime dir and data root, under /tmp), stopped and removed at the end.
// Usage: npm run build && npm run bench:export [-- --runs N]     (as root or as any user)
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopKeeper } from './keeper.mjs';
import { median } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const base = mkdtempSync('/tmp/nbx-bench-export-');
chmodSync(base, 0o711);
const env = { ...process.env, NESTBOX_RUNTIME_DIR: join(base, 'run'), NESTBOX_DATA_ROOT: join(base, 'data') };
delete env.NODE_EXTRA_CA_CERTS; // it costs every node start-up a certificate load
const cli = join(root, 'dist', 'cli', 'nestbox.cjs');
const nestbox = (args, opts = {}) => {
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 20, ...opts });
  if (r.status !== 0) throw new Error(`nestbox ${args.join(' ')}: ${r.stderr.trim()}`);
  return r;
};
const timed = (cmd) => {
  const s = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.trim()}`);
  return Number(process.hrtime.bigint() - s) / 1e6;
};

const GENERATE = [
  'for d in $(seq 40); do mkdir -p /data/$d; for f in $(seq 100); do head -c $(( (d * 7919 + f * 104729) % 60000 + 100 )) /dev/urandom > /data/$d/$f; done; done',
  'for f in $(seq 20); do head -c 4194304 /dev/urandom > /data/big$f; done',
  'ln -s /data/1/1 /data/link; ln /data/1/2 /data/hard',
].join('; ');

try {
  nestbox(['run', '--name', 'bench-export', 'busybox', 'sh', '-c', GENERATE]);
  const out = join(base, 'out');
  const tree = join(base, 'tree');
  mkdirSync(out);
  mkdirSync(tree);
  nestbox(['export', '-o', join(out, 'first.tar'), 'bench-export']);
  const bytes = statSync(join(out, 'first.tar')).size;
  spawnSync('tar', ['-xf', join(out, 'first.tar'), '-C', tree, '--numeric-owner'], { stdio: 'inherit' });
  rmSync(join(out, 'first.tar'));

  const cmds = {
    'nestbox export -o FILE': `node ${cli} export -o ${out}/a.tar bench-export`,
    'nestbox export > FILE': `node ${cli} export bench-export > ${out}/b.tar`,
    'tar -cf - DIR > FILE': `tar -cf - -C ${tree} . > ${out}/c.tar`,
  };
  const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i <= RUNS; i++) {
    for (const [name, cmd] of Object.entries(cmds)) {
      const ms = timed(cmd);
      if (i > 0) times[name].push(ms);
    }
  }
  const tarMs = median(times['tar -cf - DIR > FILE']);
  console.log(`export of a ${(bytes / 1e6).toFixed(0)} MB root file system, median of ${RUNS} (${process.getuid() === 0 ? 'root' : 'rootless'}):`);
  for (const [name, ms] of Object.entries(times)) {
    const m = median(ms);
    console.log(`  ${name.padEnd(24)} ${m.toFixed(0).padStart(6)} ms  ${(bytes / 1e6 / (m / 1000)).toFixed(0).padStart(5)} MB/s  ${(tarMs / m).toFixed(2)}x tar`);
  }
} finally {
  spawnSync(process.execPath, [cli, 'rm', '-f', 'bench-export'], { env, stdio: 'ignore' });
  spawnSync(process.execPath, [cli, 'system', 'stop'], { env, stdio: 'ignore' });
  stopKeeper(env.NESTBOX_RUNTIME_DIR);
  rmSync(base, { recursive: true, force: true });
}
