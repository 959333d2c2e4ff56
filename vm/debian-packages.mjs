// Fetches .deb files from other Debian releases (bullseye, trixie, ...) without touching the
// host's apt configuration: a private sources.list, lists and archive cache inside the VM cache,
// passed to apt-get/apt-cache with -o options. The archive's URI is taken from the machine's own
// apt configuration at run time (or NESTBOX_DEBIAN_MIRROR), so no mirror host is written
// anywhere. apt checks the Release signatures and each .deb's SHA256 from the Packages index;
// we record that hash in the cache manifest and check it again whenever the .deb is re-used.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEBIAN_SUITES = new Set(['buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid', 'oldoldstable', 'oldstable', 'stable', 'testing', 'unstable']);
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * The URI (and keyring) of the Debian archive the host's apt uses: the first "deb" source whose
 * suite is a Debian release name (not -security, -updates, nor a third-party "nodistro").
 */
export function hostDebianMirror() {
  if (process.env.NESTBOX_DEBIAN_MIRROR) return { uri: process.env.NESTBOX_DEBIAN_MIRROR.replace(/\/+$/, ''), signedBy: DEFAULT_KEYRING };
  const candidates = [];
  const sourcesFiles = safeList('/etc/apt/sources.list.d').filter((f) => f.endsWith('.sources')).sort();
  for (const f of sourcesFiles) {
    for (const stanza of readFileSync(join('/etc/apt/sources.list.d', f), 'utf8').split(/\n\s*\n/)) {
      const fields = {};
      for (const line of stanza.split('\n')) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m && !line.startsWith('#')) fields[m[1].toLowerCase()] = m[2].trim();
      }
      if (fields.enabled === 'no' || !(fields.types ?? '').split(/\s+/).includes('deb')) continue;
      const suites = (fields.suites ?? '').split(/\s+/);
      if (!suites.some((s) => DEBIAN_SUITES.has(s))) continue;
      for (const uri of (fields.uris ?? '').split(/\s+/).filter(Boolean)) candidates.push({ uri, signedBy: fields['signed-by'] || DEFAULT_KEYRING });
    }
  }
  const listFiles = ['/etc/apt/sources.list', ...safeList('/etc/apt/sources.list.d').filter((f) => f.endsWith('.list')).sort().map((f) => join('/etc/apt/sources.list.d', f))];
  for (const f of listFiles) {
    if (!existsSync(f)) continue;
    for (const raw of readFileSync(f, 'utf8').split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (!m || !DEBIAN_SUITES.has(m[3])) continue;
      const signed = /signed-by=(\S+)/.exec(m[1] ?? '');
      candidates.push({ uri: m[2], signedBy: signed ? signed[1] : DEFAULT_KEYRING });
    }
  }
  // A signed-by that is an inline key block (deb822 allows it) cannot go on a one-line source.
  const found = candidates.find((c) => c.uri.startsWith('http') || c.uri.startsWith('file:'));
  if (!found) throw new Error('no Debian archive found in /etc/apt/sources.list{,.d} (set NESTBOX_DEBIAN_MIRROR to an archive URI)');
  return { uri: found.uri.replace(/\/+$/, ''), signedBy: found.signedBy.includes('\n') ? DEFAULT_KEYRING : found.signedBy };
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export class PrivateApt {
  /** dir: private apt state; suites: e.g. ['bullseye', 'trixie']. */
  constructor(dir, suites, log = () => {}) {
    this.dir = dir;
    this.suites = [...new Set(suites)].sort();
    this.log = log;
    this.updated = false;
  }

  options() {
    const d = this.dir;
    return [
      '-o', `Dir::Etc::sourcelist=${join(d, 'sources.list')}`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', 'Dir::Etc::preferences=/dev/null',
      '-o', 'Dir::Etc::preferencesparts=-',
      '-o', `Dir::State=${join(d, 'state')}`,
      '-o', `Dir::State::Lists=${join(d, 'lists')}`,
      '-o', `Dir::State::status=${join(d, 'status')}`,
      '-o', `Dir::Cache=${join(d, 'cache')}`,
      '-o', 'Acquire::Languages=none',
      '-o', 'APT::Sandbox::User=root', // the cache is root's; _apt could not write into it
      '-o', 'Debug::NoLocking=1', // private state: nothing to lock against the host's apt
    ];
  }

  /** Writes the private sources.list and refreshes the indexes (once per run, only when needed). */
  update() {
    if (this.updated) return;
    const mirror = hostDebianMirror();
    for (const sub of ['lists/partial', 'cache/archives/partial', 'state']) mkdirSync(join(this.dir, sub), { recursive: true });
    if (!existsSync(join(this.dir, 'status'))) writeFileSync(join(this.dir, 'status'), '');
    const lines = this.suites.map((s) => `deb [arch=amd64 signed-by=${mirror.signedBy}] ${mirror.uri} ${s} main`);
    writeFileSync(join(this.dir, 'sources.list'), `${lines.join('\n')}\n`);
    this.log(`apt: updating private indexes for ${this.suites.join(', ')} (archive from the host's apt configuration)`);
    this.run('apt-get', ['-q', 'update']);
    this.updated = true;
  }

  run(cmd, args, cwd) {
    const r = spawnSync(cmd, [...this.options(), ...args], { cwd, encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Fields of the first stanza apt-cache prints for `spec` (name, name/suite or name=version). */
  show(spec) {
    const out = this.run('apt-cache', ['show', '--no-all-versions', spec]);
    const fields = {};
    let last;
    for (const line of out.split('\n\n')[0].split('\n')) {
      const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
      if (m) fields[(last = m[1])] = m[2];
      else if (last && line.startsWith(' ')) fields[last] += `\n${line.trim()}`;
    }
    return fields;
  }

  /**
   * The versioned kernel package a metapackage (e.g. linux-image-amd64) points to in a suite:
   * { name, version, sha256, size }.
   */
  resolveKernel(meta, suite) {
    this.update();
    const m = this.show(`${meta}/${suite}`);
    const dep = /(linux-image-[^\s,(]+)\s*\(=\s*([^)\s]+)\)/.exec(m.Depends ?? '');
    if (!dep) throw new Error(`${meta}/${suite}: cannot find the kernel package in Depends: ${m.Depends}`);
    const pkg = this.show(`${dep[1]}=${dep[2]}`);
    return { name: dep[1], version: dep[2], sha256: pkg.SHA256, size: Number(pkg.Size), suite };
  }

  /** Downloads name=version into destDir and returns the file's path. */
  download({ name, version }, destDir) {
    this.update();
    mkdirSync(destDir, { recursive: true });
    this.run('apt-get', ['-q', 'download', `${name}=${version}`], destDir);
    const file = readdirSync(destDir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb') && decodeURIComponent(f.split('_')[1]) === version);
    if (!file) throw new Error(`apt-get download ${name}=${version} left no .deb in ${destDir}`);
    return join(destDir, file);
  }
}
