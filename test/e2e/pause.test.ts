/**
 * pause / unpause: the container's processes frozen in its cgroup (the kernel says so: v1
 * freezer.state, v2 cgroup.events), docker's flag and words (ps `(Paused)`, inspect State.Paused,
 * status=paused), what a paused container refuses (exec, attach, start, a second pause) and what
 * still ends it (stop, kill, rm -f). Rootless without a delegated cgroup: refused in one line.
 */
import { readFileSync } from 'node:fs';
import { eachInstance } from '../helpers/each-instance.js';
import type { CliResult, NestboxInstance } from '../helpers/nestbox.js';
import type { ExecutionContext } from 'ava';

const each = eachInstance();

/** frozen, as the kernel says for the cgroup of process PID */
function frozen(pid: number): boolean {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1] === 'freezer');
  if (v1) {
    const path = v1.split(':')[2];
    return readFileSync(`/sys/fs/cgroup/freezer${path}/freezer.state`, 'utf8').trim() === 'FROZEN';
  }
  const v2 = lines.find((l) => l.startsWith('0::'))!.slice(3);
  return /^frozen 1$/m.test(readFileSync(`/sys/fs/cgroup${v2}/cgroup.events`, 'utf8'));
}

function oneLine(t: ExecutionContext, r: CliResult, code: number, pattern: RegExp): void {
  t.is(r.code, code, r.stderr);
  t.regex(r.stderr, /^nestbox: [^\n]+\n$/);
  t.regex(r.stderr, pattern);
}

const field = async (nb: NestboxInstance, format: string, ref: string) => (await nb.cli(['inspect', '-f', format, ref])).stdout.trim();

each('pause freezes the processes, unpause thaws them; docker\'s flag, words and refusals; stop, kill and rm -f still end it', async (t, nb, kind) => {
  const id = (await nb.cli(['run', '-d', '--name', 'pz', 'busybox', 'sh', '-c', 'while :; do sleep 0.05; done'])).stdout.trim();
  const limited = kind === 'root' || (await nb.cli(['run', '--rm', '-m', '64m', 'busybox', 'true'])).code === 0;
  if (!limited) {
    oneLine(t, await nb.cli(['pause', 'pz']), 1, /^nestbox: cannot pause container pz: /);
    t.is(await field(nb, '{{.State.Status}} {{.State.Paused}}', 'pz'), 'running false', 'nothing changed');
    t.is((await nb.cli(['rm', '-f', 'pz'])).code, 0);
    return;
  }
  const pid = Number(await field(nb, '{{.State.Pid}}', 'pz'));
  const pause = await nb.cli(['pause', 'pz']);
  t.is(pause.code, 0, pause.stderr);
  t.is(pause.stdout, 'pz\n');
  t.true(frozen(pid), 'the kernel has it frozen');
  t.is(await field(nb, '{{.State.Status}} {{.State.Running}} {{.State.Paused}}', 'pz'), 'paused true true');
  t.regex((await nb.cli(['ps', '--format', '{{.Names}} {{.Status}} {{.State}}'])).stdout, /^pz Up .+ \(Paused\) paused$/m);
  t.is((await nb.cli(['ps', '-q', '-f', 'status=paused'])).stdout, `${id.slice(0, 12)}\n`);
  oneLine(t, await nb.cli(['pause', 'pz']), 1, new RegExp(`Container ${id} is already paused`));
  oneLine(t, await nb.cli(['exec', 'pz', 'true']), 125, /Container pz is paused, unpause the container before exec/);
  oneLine(t, await nb.cli(['start', 'pz']), 1, /cannot start a paused container, try unpause instead/);
  oneLine(t, await nb.cli(['attach', 'pz']), 1, /You cannot attach to a paused container, unpause it first/);
  t.is((await nb.cli(['top', 'pz', '-o', 'pid'])).stdout.trim().split('\n').length >= 2, true, 'top still lists it');

  t.is((await nb.cli(['unpause', 'pz'])).stdout, 'pz\n');
  t.false(frozen(pid));
  t.is(await field(nb, '{{.State.Status}} {{.State.Paused}}', 'pz'), 'running false');
  oneLine(t, await nb.cli(['unpause', 'pz']), 1, new RegExp(`Container ${id} is not paused`));
  t.is((await nb.cli(['exec', 'pz', 'true'])).code, 0);

  // what ends a paused container: stop (it is thawed after TERM), kill, rm -f
  t.is((await nb.cli(['pause', 'pz'])).code, 0);
  t.is((await nb.cli(['stop', '-t', '1', 'pz'])).code, 0);
  t.is(await field(nb, '{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}', 'pz'), 'exited false 137');
  t.is((await nb.cli(['start', 'pz'])).code, 0);
  t.is((await nb.cli(['pause', 'pz'])).code, 0);
  t.is((await nb.cli(['kill', 'pz'])).code, 0);
  t.is((await nb.cli(['wait', 'pz'])).stdout, '137\n');
  t.is((await nb.cli(['start', 'pz'])).code, 0);
  t.is((await nb.cli(['pause', 'pz'])).code, 0);
  t.is((await nb.cli(['rm', '-f', 'pz'])).code, 0);
  oneLine(t, await nb.cli(['pause', 'pz']), 1, /no such container: pz/);
  oneLine(t, await nb.cli(['unpause']), 125, /"nestbox unpause" requires at least 1 argument/);
});
