#!/usr/bin/env node
// Start-up benchmarks (issue: walking skeleton). Prints, for the calling user:
//  - median wall time of `nestbox run --rm busybox true` from the shell (services warm),
//  - median of the same run through the lifecycle ZeroMQ API (services warm),
//  - median of the native runtime alone on a prepared bundle is in the integration tests' logs,
//  - idle RSS of the services, split (six processes) and embedded (one).
// Runs an isolated instance in a temporary runtime dir and data root, removed at the end.
// Usage: npm run build && node bench/run.mjs [--runs N]
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, chmodSync } from 'node:fs';
import { stopKeeper } from './keeper.mjs';
import { cliPath as cli, fmt, instanceEnv, median, nestbox as nb, timeApiRun } from './lib.mjs';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 30;

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function timeShell(env) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    nb(env, ['run', '--rm', 'busybox', 'true']);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

function info(env) {
  return JSON.parse(nb(env, ['system', 'info']));
}

function peers() {
  const out = [];
  for (const tool of ['runc', 'crun', 'podman', 'docker', 'bwrap']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    // docker's client is often there without an engine: only a working one is a peer
    const works = found && spawnSync(tool, tool === 'bwrap' ? ['--version'] : ['info'], { timeout: 5000 }).status === 0;
    out.push(`${tool}: ${!found ? 'not found on this machine' : works ? found : `${found} (does not work here: no engine)`}`);
  }
  return out;
}

async function main() {
  const results = [];
  for (const mode of ['split', 'embedded']) {
    const base = mkdtempSync('/tmp/nbx-bench-');
    chmodSync(base, 0o711);
    const env = instanceEnv(base, mode);
    try {
      nb(env, ['run', '--rm', 'busybox', 'true']); // starts the services, builds the default image
      await new Promise((r) => setTimeout(r, 1500)); // let start-up settle before measuring idle RSS
      const i = info(env);
      const pids = [i.pid, ...new Set(i.services.map((s) => s.pid))].filter((p, k, a) => a.indexOf(p) === k);
      const rss = pids.reduce((sum, p) => sum + rssKiB(p), 0);
      const perService = mode === 'split' ? i.services.map((s) => `${s.name} ${(rssKiB(s.pid) / 1024).toFixed(0)}`).join(', ') : '';
      const shell = timeShell(env);
      const api = await timeApiRun(env, RUNS);
      results.push({ mode, rss, perService, supervisorRss: rssKiB(i.pid), shell, api });
    } finally {
      spawnSync(process.execPath, [cli, 'system', 'stop'], { env });
      stopKeeper(env.NESTBOX_RUNTIME_DIR);
      rmSync(base, { recursive: true, force: true });
    }
  }
  const who = process.getuid() === 0 ? 'root' : `uid ${process.getuid()}`;
  console.log(`nestbox start-up benchmark (${who}, ${RUNS} runs each, NODE_EXTRA_CA_CERTS unset, kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()})`);
  for (const r of results) {
    console.log(`[${r.mode}] CLI  nestbox run --rm busybox true: median ${fmt(median(r.shell))} (min ${fmt(Math.min(...r.shell))}, max ${fmt(Math.max(...r.shell))})`);
    console.log(`[${r.mode}] API  lifecycle.run busybox true:      median ${fmt(median(r.api))} (min ${fmt(Math.min(...r.api))}, max ${fmt(Math.max(...r.api))})`);
    console.log(`[${r.mode}] idle RSS of the services: ${(r.rss / 1024).toFixed(0)} MiB in all` + (r.perService ? ` (nestboxd ${(r.supervisorRss / 1024).toFixed(0)}; ${r.perService} MiB)` : ''));
  }
  console.log('targets (later issues): CLI <= 60 ms, API <= 8 ms');
  console.log('peers: ' + peers().join('; '));
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
