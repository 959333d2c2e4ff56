// Runs the suite for one combination and turns what it left behind into a result:
// in a guest (kernel x cgroup version) through qemu, or directly on the host.
// Each combination's files live in <cache>/runs/<name>/ (replaced on every run): serial.log,
// and results/ (shared read-write with the guest over 9p): job.env, tap.txt, stderr.txt, rc,
// guest.log, dmesg.txt, fail.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { boot, killTree, qemuArgs } from './qemu.mjs';
import { countByUser, parseTap } from './report.mjs';

/** The test command both the host and the guests run, relative to the project. */
export function testCommand({ files, serial }) {
  return ['node', 'test/run.mjs', '--config', 'vm/ava-config.mjs', ...(serial ? ['--serial'] : []), ...files];
}

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/**
 * Boots `kernel` (from prepareKernel) with cgroup version `cgroup` and runs the suite inside.
 * opts: { cache, project, dist, files, accel, initrd, memMb, smp, timeoutMs, avaTimeout, registry, log }
 */
export async function runGuest(kernel, cgroup, opts) {
  const name = `${kernel.key}-v${cgroup}`;
  const runDir = opts.cache.path('runs', name);
  const results = join(runDir, 'results');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  // job.env is sourced by the guest's init; env values are passed through `env -i` and must not
  // contain spaces (they are word-split on purpose).
  const env = [`NBX_VM_DIST=${opts.dist}`, `NBX_VM_AVA_TIMEOUT=${opts.avaTimeout}`, `NBX_VM_CONCURRENCY=${opts.concurrency}`];
  // Under emulation everything is ~10x slower: tell the CLI and the tests' fixed waits.
  if (opts.accel.name === 'tcg') env.push('NESTBOX_TEST_TIME_FACTOR=10', 'NESTBOX_START_TIMEOUT_MS=300000');
  writeFileSync(join(results, 'job.env'), [
    `NBX_PROJECT=${shellQuote(opts.project)}`,
    `NBX_PROJECT_DEV=${opts.projectImage ? '/dev/vda' : ''}`,
    `NBX_ENV=${shellQuote(env.join(' '))}`,
    `NBX_COMMAND=${shellQuote(opts.command ?? testCommand(opts).join(' '))}`,
    '',
  ].join('\n'));

  const append = [
    'console=ttyS0', 'panic=5', 'quiet', 'loglevel=4',
    `nbx.cgroup=${cgroup}`, `nbx.kernel=${kernel.key.replace('.', '-')}`,
    // v1 guests keep every controller on v1 (systemd's hybrid mode does the same)
    cgroup === 1 ? 'systemd.unified_cgroup_hierarchy=0' : 'systemd.unified_cgroup_hierarchy=1',
    ...(process.env.NESTBOX_VM_APPEND ? [process.env.NESTBOX_VM_APPEND] : []),
  ].join(' ');
  const args = qemuArgs({
    accel: opts.accel, kernel: kernel.vmlinuz, initrd: opts.initrd, append, memMb: opts.memMb, smp: opts.smp,
    shares: [
      { tag: 'hostroot', path: '/', readonly: true },
      { tag: 'modules', path: kernel.modulesDir, readonly: true },
      { tag: 'results', path: results, readonly: false },
    ],
    drives: opts.projectImage ? [{ file: opts.projectImage, snapshot: true }] : [],
  });
  writeFileSync(join(runDir, 'qemu.args'), `${args.map(shellQuote).join(' ')}\n`);
  const fails = [];
  const marks = {};
  // A line now and then, so a long guest run is visibly alive.
  const progress = setInterval(() => {
    const tap = existsSync(join(results, 'tap.txt')) ? readFileSync(join(results, 'tap.txt'), 'utf8') : '';
    const done = (tap.match(/^(ok|not ok) \d+/gm) ?? []).length;
    const failed = (tap.match(/^not ok \d+/gm) ?? []).length;
    if (marks['TESTS-START']) opts.log(`[${name}] ${done} tests done${failed ? `, ${failed} failed` : ''} (${Math.round((Date.now() - marks['TESTS-START']) / 1000)} s)`);
  }, opts.progressMs ?? 60_000);
  const r = await boot(args, {
    serialLog: join(runDir, 'serial.log'),
    timeoutMs: opts.timeoutMs,
    registry: opts.registry,
    onLine: (line) => {
      const m = /NBX-(FAIL|STAGE1|TESTS-START|TESTS-DONE)\b:?\s*(.*)/.exec(line);
      if (!m) return;
      marks[m[1]] = Date.now();
      if (m[1] === 'FAIL') fails.push(m[2]);
      if (m[1] === 'TESTS-START') opts.log(`[${name}] booted, tests started`);
    },
  });
  clearInterval(progress);
  const result = collect(results, { kernel: kernel.key, cgroup, ms: r.ms });
  result.bootMs = marks['TESTS-START'] ? marks['TESTS-START'] - (marks.STAGE1 ?? marks['TESTS-START']) : undefined;
  if (r.timedOut) return { ...result, status: 'no report', reason: `timeout after ${Math.round(opts.timeoutMs / 60000)} min` };
  if (fails.length) return { ...result, status: 'no report', reason: `guest init: ${fails[0]}` };
  if (result.status === 'no report' && !result.tests) {
    // e.g. a kernel panic or qemu refusing its arguments: the console's last words say which
    const last = readFileSync(join(runDir, 'serial.log'), 'latin1').split('\n').map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]|\r/g, '').trim()).filter(Boolean).pop();
    if (last) result.reason += `; console: ${last.slice(0, 160)}`;
  }
  return result;
}

/** Runs the suite on the host itself (no VM). */
export function runHost(opts) {
  const runDir = opts.cache.path('runs', 'host');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(join(runDir, 'results'), { recursive: true });
  const results = join(runDir, 'results');
  const [cmd, ...args] = testCommand({ ...opts, serial: false });
  return new Promise((resolve) => {
    const started = Date.now();
    const env = { ...process.env, NBX_VM_DIST: opts.dist, NBX_VM_AVA_TIMEOUT: '3m', NBX_VM_CONCURRENCY: String(opts.concurrency) };
    // Its own process group: on a timeout or ^C the ava workers and the services they started
    // go too, not just test/run.mjs.
    const child = spawn(cmd === 'node' ? process.execPath : cmd, args, { cwd: opts.project, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.nbxGroup = true;
    opts.registry?.add(child);
    child.stdout.pipe(createWriteStream(join(results, 'tap.txt')));
    child.stderr.pipe(createWriteStream(join(results, 'stderr.txt')));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killTree(child); }, opts.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.registry?.delete(child);
      writeFileSync(join(results, 'rc'), `${code ?? 'signal'}\n`);
      const result = collect(results, { kernel: 'host', cgroup: opts.hostCgroup, ms: Date.now() - started });
      resolve(timedOut ? { ...result, status: 'no report', reason: `timeout after ${Math.round(opts.timeoutMs / 60000)} min` } : result);
    });
  });
}

/** A result from a results dir: counts per user, the failed tests, a status. */
export function collect(results, base) {
  const read = (f) => (existsSync(join(results, f)) ? readFileSync(join(results, f), 'utf8') : undefined);
  const tap = read('tap.txt');
  const rcText = read('rc');
  const failText = read('fail');
  const out = { ...base, dir: results };
  if (tap) {
    const parsed = parseTap(tap);
    out.tests = parsed.tests;
    out.counts = countByUser(parsed.tests);
    out.avaLine = parsed.avaLine;
  }
  if (failText) return { ...out, status: 'no report', reason: `guest init: ${failText.trim().split('\n')[0]}` };
  if (rcText === undefined) return { ...out, status: 'no report', reason: 'the guest stopped without a result (see serial.log)' };
  const rc = rcText.trim();
  const failed = (out.tests ?? []).filter((t) => !t.ok && !t.todo).length;
  if (!out.avaLine) return { ...out, status: 'failed', reason: `no "ava:" summary line, exit ${rc} (see stderr.txt)` };
  if (failed > 0) return { ...out, status: 'failed', reason: `${failed} failed` };
  if (rc !== '0') return { ...out, status: 'failed', reason: `exit ${rc}` };
  return { ...out, status: 'ok' };
}
