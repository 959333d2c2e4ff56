// Boots a guest with qemu: direct kernel boot, serial console to a log file, 9p shares, no
// network device at all (the tests need only loopback inside the guest). Also the accelerator
// probe: KVM is used only when a stock kernel really boots with it (a PVM /dev/kvm, as on some
// cloud sandboxes, accepts the ioctls but cannot run a stock kernel), else TCG.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, readFileSync } from 'node:fs';

export const QEMU = 'qemu-system-x86_64';

/** qemu's command line for one guest. shares: [{ tag, path, readonly }] */
export function qemuArgs({ accel, kernel, initrd, append, memMb = 2048, smp = 1, shares = [], drives = [] }) {
  const args = [
    '-nodefaults', '-nographic', '-no-reboot',
    '-accel', accel.name, '-cpu', accel.cpu, '-smp', String(smp), '-m', String(memMb),
    '-kernel', kernel, '-initrd', initrd, '-append', append,
    '-serial', 'stdio', '-monitor', 'none',
    '-nic', 'none',
  ];
  shares.forEach((s, i) => {
    // security_model=none: files are read and created as the qemu process (root), ownership
    // and modes (setuid newuidmap included) are passed through as they are on the host.
    // multidevs=remap: the host root spans several file systems; keeps inode numbers unique.
    const opts = [`local`, `id=fs${i}`, `path=${s.path}`, 'security_model=none', 'multidevs=remap'];
    if (s.readonly) opts.push('readonly=on');
    args.push('-fsdev', opts.join(','), '-device', `virtio-9p-pci,fsdev=fs${i},mount_tag=${s.tag}`);
  });
  for (const d of drives) {
    // snapshot=on: the guest's writes go to a temporary overlay qemu deletes; the image stays as built.
    args.push('-drive', `file=${d.file},if=virtio,format=raw,cache=unsafe${d.snapshot ? ',snapshot=on' : ''}`);
  }
  return args;
}

/**
 * Runs qemu until it exits or `timeoutMs` passes (then it is killed). The serial console goes
 * to `serialLog`; `onLine` sees each console line. Resolves { code, signal, timedOut, ms }.
 */
export function boot(args, { serialLog, timeoutMs, onLine = () => {}, registry }) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const out = createWriteStream(serialLog);
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    registry?.add(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let buf = '';
    const feed = (chunk) => {
      out.write(chunk);
      buf += chunk.toString('latin1');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', (err) => {
      clearTimeout(timer);
      registry?.delete(child);
      out.end();
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      registry?.delete(child);
      out.end(() => resolve({ code, signal, timedOut, ms: Date.now() - started }));
    });
  });
}

/** Every qemu this runner started, so an interrupted run kills them (and only them). */
export class QemuRegistry {
  constructor() {
    this.children = new Set();
  }
  add(c) { this.children.add(c); }
  delete(c) { this.children.delete(c); }
  killAll() {
    for (const c of this.children) killTree(c);
  }
}

/** SIGKILL to a child, and to its whole process group when it was started detached (its own group). */
export function killTree(child) {
  try {
    if (child.nbxGroup) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch { /* already gone */ }
}

/**
 * Picks the accelerator once per run: { name, cpu, why }. KVM needs /dev/kvm usable by us and a
 * probe boot of a stock kernel (the given one) that reaches the initramfs within 60 s.
 */
export async function probeAccelerator({ kernel, initrd, serialLog, registry, log = () => {} }) {
  // qemu64 rather than max under TCG: the quick suite on 6.1 took 94 s with qemu64 and 108-110 s
  // with max (max without AVX: 105 s); nothing nestbox tests depends on newer CPU features.
  const tcg = (why) => ({ name: 'tcg', cpu: process.env.NESTBOX_VM_CPU || 'qemu64', why });
  if (process.env.NESTBOX_VM_ACCEL === 'tcg') return tcg('NESTBOX_VM_ACCEL=tcg');
  if (!existsSync('/dev/kvm')) return tcg('no /dev/kvm');
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return tcg('/dev/kvm is not read-writable for this user');
  }
  const kvm = { name: 'kvm', cpu: 'host' };
  const args = qemuArgs({ accel: kvm, kernel, initrd, append: 'console=ttyS0 panic=-1 quiet nbx.probe=1', memMb: 256 });
  let ok = false;
  const r = await boot(args, { serialLog, timeoutMs: 60_000, registry, onLine: (l) => { if (l.includes('NBX-PROBE-OK')) ok = true; } });
  if (ok) return { ...kvm, why: `probe boot with KVM took ${(r.ms / 1000).toFixed(1)} s` };
  const flavour = existsSync('/sys/module/kvm_pvm') ? ' (the host KVM is PVM: kvm_pvm is loaded)' : '';
  const last = readFileSync(serialLog, 'latin1').trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  log(`accelerator: KVM probe failed${flavour}${r.timedOut ? ' (timed out)' : ''}: ${last.slice(0, 200)}`);
  return tcg(`a stock kernel does not boot with KVM here${flavour}`);
}

/** qemu-system-x86_64 --version, or undefined when it is missing. */
export function qemuVersion() {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}
